package dev.sluice.api.http;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class TcpConnectionsTest {

    @Test
    void parsesTheKernelsTablesForIpv4AndMappedAddresses() {
        assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "the sample lines are from a little-endian host");
        List<String> lines = List.of(
                "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
                "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0",
                "   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1",
                "   2: 0100007F:1F90 0100007F:D432 08 00000000:00000000 00:00000000 00000000     0        0 3 1 0 20 4 30 10 -1",
                "   3: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:D433 01 00000000:00000000 "
                        + "00:00000000 00000000     0        0 4 1 0 20 4 30 10 -1");
        TcpConnections table = TcpConnections.parse(lines, new HashMap<>());
        InetSocketAddress server = new InetSocketAddress("127.0.0.1", 8080);
        assertEquals(TcpConnections.ESTABLISHED, table.state(server, new InetSocketAddress("127.0.0.1", 0xD431)));
        assertEquals(TcpConnections.CLOSE_WAIT, table.state(server, new InetSocketAddress("127.0.0.1", 0xD432)));
        assertEquals(TcpConnections.ESTABLISHED, table.state(server, new InetSocketAddress("127.0.0.1", 0xD433)),
                "an IPv4 client of a dual-stack listener is listed as IPv4-mapped IPv6");
        assertEquals(-1, table.state(server, new InetSocketAddress("127.0.0.1", 0xD434)));
        assertTrue(TcpConnections.peerClosed(TcpConnections.CLOSE_WAIT));
    }

    @Test
    void seesARealConnectionOpenThenClosedByItsPeer() throws Exception {
        assumeTrue(TcpConnections.available(), "/proc/net/tcp is Linux only");
        try (ServerSocket listener = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Socket client = new Socket(listener.getInetAddress(), listener.getLocalPort());
            try (Socket accepted = listener.accept()) {
                InetSocketAddress local = (InetSocketAddress) accepted.getLocalSocketAddress();
                InetSocketAddress remote = (InetSocketAddress) accepted.getRemoteSocketAddress();
                assertEquals(TcpConnections.ESTABLISHED, TcpConnections.read().state(local, remote));
                client.close();
                InputStream in = accepted.getInputStream();
                assertEquals(-1, in.read(), "the peer's FIN arrived");
                assertTrue(TcpConnections.peerClosed(TcpConnections.read().state(local, remote)));
            }
        }
    }
}
