// A JVM service that leaks native memory through direct ByteBuffers, for
// tests/e2e/jvm.bats. leakBuffers() keeps every buffer it allocates
// (ByteBuffer.allocateDirect: malloc under Unsafe.allocateMemory) in a
// static list; churn() allocates as many and drops them (freed by the
// JDK's Cleaner once the GC finds them unreachable).
//
// Usage: java LeakDirect ROUNDS COUNT SIZE GO_FILE [late]
// Warms up until the JIT has compiled leakBuffers and churn (asked in
// process, through the DiagnosticCommand MBean: no attach), prints
// "compiled"; waits for GO_FILE to exist; runs ROUNDS rounds of COUNT
// buffers of SIZE bytes each way; waits until every dropped buffer is
// freed; prints "kept BYTES" (what those rounds keep) and stays until
// killed.
//
// With "late" after GO_FILE, the leak is lateLeak's instead, a method first
// called (and compiled) only once GO_FILE exists: a tracer that started
// before can name it only from a perf map dumped after its start.
//
// Usage: java LeakDirect bench SECS GO_FILE (scripts/bench --jvm)
// Warms up as above, waits for GO_FILE, then runs churn() for SECS seconds
// and prints "ops N" (direct buffers made and dropped per second).
import java.io.File;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import javax.management.ObjectName;

public class LeakDirect {
	static final List<ByteBuffer> KEPT = new ArrayList<>();
	static long keptBytes;
	static long sink;

	// The leak: every buffer is kept.
	static void leakBuffers(int count, int size) {
		for (int i = 0; i < count; i++) {
			KEPT.add(ByteBuffer.allocateDirect(size));
			keptBytes += size;
		}
	}

	// Memory given back: the buffers are dropped.
	static void churn(int count, int size) {
		for (int i = 0; i < count; i++) {
			ByteBuffer b = ByteBuffer.allocateDirect(size);
			b.put(0, (byte) i);
			sink += b.get(0);
		}
	}

	// The leak of the "late" mode; with keep false, its warm-up.
	static void lateLeak(int count, int size, boolean keep) {
		for (int i = 0; i < count; i++) {
			ByteBuffer b = ByteBuffer.allocateDirect(size);
			if (keep) {
				KEPT.add(b);
				keptBytes += size;
			}
		}
	}

	static void serve(int rounds, int count, int size) {
		for (int r = 0; r < rounds; r++) {
			leakBuffers(count, size);
			churn(count, size);
		}
	}

	// The JIT's list of compiled methods (jcmd PID Compiler.codelist).
	static String codelist() throws Exception {
		ObjectName dcmd = new ObjectName("com.sun.management:type=DiagnosticCommand");
		return (String) ManagementFactory.getPlatformMBeanServer().invoke(dcmd, "compilerCodelist",
				new Object[] { new String[0] }, new String[] { String[].class.getName() });
	}

	static boolean compiled(String... methods) throws Exception {
		String list = codelist();
		for (String m : methods)
			if (!list.contains("LeakDirect." + m + "("))
				return false;
		return true;
	}

	static BufferPoolMXBean directPool() {
		for (BufferPoolMXBean p : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class))
			if (p.getName().equals("direct"))
				return p;
		throw new IllegalStateException("no direct buffer pool");
	}

	// Direct memory in use falls to at most what it was plus what is kept
	// once the Cleaner has freed every dropped buffer.
	static void awaitFreed(long base) throws InterruptedException {
		BufferPoolMXBean direct = directPool();
		while (direct.getMemoryUsed() > base + keptBytes) {
			System.gc();
			Thread.sleep(10);
		}
	}

	// Until the JIT has compiled the hot path and left it alone for three
	// checks in a row (a method it recompiles runs interpreted meanwhile),
	// with the real size (the same branches as the traced rounds).
	static void warmUp(int rounds, int size) throws Exception {
		for (int stable = 0; stable < 3; ) {
			serve(rounds, 1, size);
			KEPT.clear();
			keptBytes = 0;
			stable = compiled("leakBuffers", "churn") ? stable + 1 : 0;
		}
	}

	static void awaitGo(File go) throws InterruptedException {
		while (!go.exists())
			Thread.sleep(10);
	}

	static void bench(double secs, File go) throws Exception {
		warmUp(200, 4096);
		System.out.println("compiled");
		awaitGo(go);
		long ops = 0, start = System.nanoTime(), end = start + (long) (secs * 1e9);
		while (System.nanoTime() < end) {
			churn(100, 4096);
			ops += 100;
		}
		System.out.println("ops " + (long) (ops / ((System.nanoTime() - start) / 1e9)));
	}

	public static void main(String[] args) throws Exception {
		if (args[0].equals("bench")) {
			bench(Double.parseDouble(args[1]), new File(args[2]));
			return;
		}
		int rounds = Integer.parseInt(args[0]);
		int count = Integer.parseInt(args[1]);
		int size = Integer.parseInt(args[2]);
		File go = new File(args[3]);

		warmUp(rounds, size);
		long base = directPool().getMemoryUsed();
		System.out.println("compiled");
		awaitGo(go);
		if (args.length > 4 && args[4].equals("late")) {
			// Compiled by its calls, not on stack at a loop (OSR),
			// and down both branches (no deoptimization later), so
			// that the next call runs the compiled method.
			do {
				for (int r = 0; r < rounds; r++)
					lateLeak(1, 16, r % 2 == 0);
				KEPT.clear();
				keptBytes = 0;
			} while (!compiled("lateLeak"));
			lateLeak(rounds * count, size, true);
		} else {
			serve(rounds, count, size);
		}
		awaitFreed(base);
		System.out.println("kept " + keptBytes);
		Thread.sleep(Long.MAX_VALUE);
	}
}
