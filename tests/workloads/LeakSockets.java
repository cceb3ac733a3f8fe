// A JVM service that leaks client sockets, for tests/e2e/jvm.bats:
// openConnection() connects to a loopback server that hangs up at once;
// keepRound() keeps what it opens (left in CLOSE_WAIT), churnRound()
// closes it.
//
// Usage: java LeakSockets COUNT GO_FILE
// Warms up until the JIT has compiled openConnection and both rounds
// (asked in process, through the DiagnosticCommand MBean: no attach),
// prints "compiled"; waits for GO_FILE to exist; opens COUNT sockets each
// way; prints "kept COUNT" once the server has hung up on every kept one,
// and stays until killed.
import java.io.File;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.ObjectName;

public class LeakSockets {
	static final List<Socket> KEPT = new ArrayList<>();
	static final AtomicLong HUNG_UP = new AtomicLong();
	static int port;

	static Socket openConnection() throws Exception {
		return new Socket(InetAddress.getLoopbackAddress(), port);
	}

	// The leak: every socket is kept after the peer has gone.
	static void keepRound(int count) throws Exception {
		for (int i = 0; i < count; i++)
			KEPT.add(openConnection());
	}

	static void churnRound(int count) throws Exception {
		for (int i = 0; i < count; i++)
			openConnection().close();
	}

	// Accepts and hangs up at once: the client's end goes to CLOSE_WAIT.
	static void serve(ServerSocket server) {
		try {
			for (;;) {
				server.accept().close();
				HUNG_UP.incrementAndGet();
			}
		} catch (Exception e) {
			throw new RuntimeException(e);
		}
	}

	static boolean compiled(String... methods) throws Exception {
		ObjectName dcmd = new ObjectName("com.sun.management:type=DiagnosticCommand");
		String list = (String) ManagementFactory.getPlatformMBeanServer().invoke(dcmd, "compilerCodelist",
				new Object[] { new String[0] }, new String[] { String[].class.getName() });
		for (String m : methods)
			if (!list.contains("LeakSockets." + m + "("))
				return false;
		return true;
	}

	// Until the hot path is compiled and left alone for three checks in a
	// row (a method the JIT recompiles runs interpreted meanwhile).
	static void warmUp() throws Exception {
		for (int stable = 0; stable < 3; ) {
			keepRound(20);
			for (Socket s : KEPT)
				s.close();
			KEPT.clear();
			churnRound(20);
			stable = compiled("openConnection", "keepRound", "churnRound") ? stable + 1 : 0;
		}
	}

	public static void main(String[] args) throws Exception {
		int count = Integer.parseInt(args[0]);
		File go = new File(args[1]);
		ServerSocket server = new ServerSocket(0, 1024, InetAddress.getLoopbackAddress());
		Thread t = new Thread(() -> serve(server));

		port = server.getLocalPort();
		t.setDaemon(true);
		t.start();
		warmUp();
		System.out.println("compiled");
		while (!go.exists())
			Thread.sleep(10);
		long before = HUNG_UP.get();
		keepRound(count);
		churnRound(count);
		while (HUNG_UP.get() < before + 2L * count)
			Thread.sleep(10);
		System.out.println("kept " + count);
		for (;;)
			Thread.sleep(1000);
	}
}
