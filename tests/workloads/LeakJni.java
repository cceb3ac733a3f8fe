// A JVM program whose JNI library leaks: keepNative() (libleakjni.so,
// tests/workloads/jni/leak_jni.c) mallocs a block it never frees, called from
// the Java method storeRecords(). For tests/e2e/jvm.bats.
//
// Usage: java -Djava.library.path=DIR LeakJni COUNT SIZE GO_FILE
// Warms storeRecords up until the JIT has compiled it (with 16-byte
// blocks), prints "compiled", waits for GO_FILE, leaks COUNT blocks of
// SIZE bytes, prints "kept BYTES" and stays until killed.
import java.io.File;
import java.lang.management.ManagementFactory;
import javax.management.ObjectName;

public class LeakJni {
	static native long keepNative(int size);

	static long keptBytes;

	static void storeRecords(int count, int size) {
		for (int i = 0; i < count; i++)
			if (keepNative(size) != 0)
				keptBytes += size;
	}

	static boolean compiled() throws Exception {
		ObjectName dcmd = new ObjectName("com.sun.management:type=DiagnosticCommand");
		String list = (String) ManagementFactory.getPlatformMBeanServer().invoke(dcmd, "compilerCodelist",
				new Object[] { new String[0] }, new String[] { String[].class.getName() });
		return list.contains("LeakJni.storeRecords(");
	}

	public static void main(String[] args) throws Exception {
		int count = Integer.parseInt(args[0]);
		int size = Integer.parseInt(args[1]);
		File go = new File(args[2]);

		System.loadLibrary("leakjni");
		for (int stable = 0; stable < 3; ) {
			for (int r = 0; r < 200; r++)
				storeRecords(1, 16);
			stable = compiled() ? stable + 1 : 0;
		}
		System.out.println("compiled");
		while (!go.exists())
			Thread.sleep(10);
		keptBytes = 0;
		storeRecords(count, size);
		System.out.println("kept " + keptBytes);
		Thread.sleep(Long.MAX_VALUE);
	}
}
