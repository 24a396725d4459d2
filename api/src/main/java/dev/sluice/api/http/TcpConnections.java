package dev.sluice.api.http;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The kernel's view of this process's TCP connections, read from Linux's {@code /proc/net/tcp}
 * and {@code /proc/net/tcp6}: which connections exist and in what state. The server uses it to
 * notice that a client went away while its request is still running and nothing is being written
 * to it (a non-streaming request): the peer's FIN turns the connection to {@code CLOSE_WAIT}, its
 * RST removes it. Reading the table needs no access to the socket, so it cannot disturb what
 * Helidon reads from it.
 *
 * <p>Addresses in those files are hexadecimal in the kernel's byte order: each 32-bit word of the
 * address as the host stores it (little-endian on x86 and arm64), the port as a number.
 */
public final class TcpConnections {

    /** TCP states, numbered as in the kernel's {@code include/net/tcp_states.h}. */
    public static final int ESTABLISHED = 1;
    public static final int CLOSE = 7;
    public static final int CLOSE_WAIT = 8;
    public static final int LAST_ACK = 9;
    public static final int CLOSING = 11;

    private static final List<Path> TABLES = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));

    private final Map<String, Integer> states;

    private TcpConnections(Map<String, Integer> states) {
        this.states = states;
    }

    /** Whether this system publishes the table (Linux). */
    public static boolean available() {
        return Files.isReadable(TABLES.getFirst());
    }

    /** Reads the current table; empty where it is not available. */
    public static TcpConnections read() {
        Map<String, Integer> states = new HashMap<>();
        for (Path table : TABLES) {
            try {
                parse(Files.readAllLines(table), states);
            } catch (IOException | RuntimeException e) {
                // No table (not Linux, no IPv6): nothing known from it.
            }
        }
        return new TcpConnections(states);
    }

    /** Parses the lines of one table into {@code states}; a line it does not understand is skipped. */
    static TcpConnections parse(List<String> lines, Map<String, Integer> states) {
        for (String line : lines) {
            String[] f = line.strip().split("\\s+");
            if (f.length < 4 || !f[0].endsWith(":") || f[3].length() != 2) {
                continue; // the header, or not a connection line
            }
            try {
                states.put(f[1] + "-" + f[2], Integer.parseInt(f[3], 16));
            } catch (NumberFormatException e) {
                // skip
            }
        }
        return new TcpConnections(states);
    }

    /**
     * The state of the connection between {@code local} and {@code remote}, or -1 when the table
     * does not list it (closed and gone, or the table is not available).
     */
    public int state(InetSocketAddress local, InetSocketAddress remote) {
        for (String l : keys(local)) {
            for (String r : keys(remote)) {
                Integer state = states.get(l + "-" + r);
                if (state != null) {
                    return state;
                }
            }
        }
        return -1;
    }

    /** True for the states a connection is in once its peer has closed it. */
    public static boolean peerClosed(int state) {
        return state == CLOSE_WAIT || state == LAST_ACK || state == CLOSE || state == CLOSING;
    }

    /** How an address may be listed: as IPv4, or as IPv4 mapped into IPv6 (a dual-stack listener). */
    private static List<String> keys(InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        String port = String.format("%04X", address.getPort());
        if (ip instanceof Inet4Address v4) {
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xff;
            mapped[11] = (byte) 0xff;
            System.arraycopy(v4.getAddress(), 0, mapped, 12, 4);
            return List.of(hex(v4.getAddress()) + ":" + port, hex(mapped) + ":" + port);
        }
        if (ip instanceof Inet6Address v6) {
            return List.of(hex(v6.getAddress()) + ":" + port);
        }
        return List.of();
    }

    /** The kernel's rendering: each 4-byte word in the host's byte order, upper-case hex. */
    static String hex(byte[] address) {
        if (java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.BIG_ENDIAN) {
            return HexFormat.of().withUpperCase().formatHex(address);
        }
        byte[] swapped = new byte[address.length];
        for (int w = 0; w < address.length; w += 4) {
            for (int i = 0; i < 4; i++) {
                swapped[w + i] = address[w + 3 - i];
            }
        }
        return HexFormat.of().withUpperCase().formatHex(swapped);
    }
}
