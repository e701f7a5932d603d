package org.commonweal.consensus.bft.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.commonweal.consensus.bft.protocol.Id;
import org.commonweal.consensus.bft.protocol.Messages;
import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.junit.jupiter.api.Test;

class ValidatorAddressesTest {

    private static PrivateKey key(int i) {
        byte[] seed = new byte[32];
        seed[0] = (byte) i;
        seed[3] = 99;
        return Ed25519.fromSeed(seed);
    }

    private static final String A = key(1).publicKey().hex();
    private static final String B = key(2).publicKey().hex();
    private static final String C = key(3).publicKey().hex();

    @Test
    void readsTheGenesisList() {
        ValidatorAddresses parsed = ValidatorAddresses.parse(A + "@validator-a.example:7100,\n  " + B + "@10.0.0.2:7100 " + C
                + "@[2001:db8::7]:7101");
        assertEquals(List.of(key(1).publicKey(), key(2).publicKey(), key(3).publicKey()), parsed.validators().keys());
        assertEquals("validator-a.example", parsed.addresses().get(0).getHostString());
        assertTrue(parsed.addresses().get(0).isUnresolved(), "names are resolved at each dial, not here");
        assertEquals(7100, parsed.addresses().get(1).getPort());
        assertEquals("2001:db8::7", parsed.addresses().get(2).getHostString());
        assertEquals(7101, parsed.addresses().get(2).getPort());
        assertEquals(Optional.of(1), parsed.indexOf(key(2).publicKey()));
        assertEquals(Optional.empty(), parsed.indexOf(key(4).publicKey()));
    }

    @Test
    void namesWhatIsWrongWithAnEntry() {
        assertProblem("", "the validator list is empty");
        assertProblem(A + " " + B + "@h:1", "validator 0 ('" + A + "') has no '@'");
        assertProblem("abc@h:1", "validator 0 ('abc@h:1') has no valid node key");
        assertProblem(A + "@h:1," + A + "@g:2", "validator 1 ('" + A + "@g:2') repeats the node key of validator 0");
        assertProblem(A + "@h", "has no <host>:<port>");
        assertProblem(A + "@h:70000", "has no port from 1 to 65535");
        assertProblem(A + "@h:x", "has no port from 1 to 65535");
        assertProblem(A + "@2001:db8::7:7101", "IPv6 address without brackets");
        assertProblem(A + "@h:0," + B + "@g:2", "port 0 (any free port) suits only a single-validator network");
        org.junit.jupiter.api.Assertions.assertEquals(0, ValidatorAddresses.parse(A + "@h:0").addresses().getFirst().getPort());
    }

    private static void assertProblem(String list, String expected) {
        Exception e = assertThrows(IllegalArgumentException.class, () -> ValidatorAddresses.parse(list));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void transportsFindEachOtherByName() throws Exception {
        int[] ports = new int[2];
        for (int i = 0; i < 2; i++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                ports[i] = s.getLocalPort();
            }
        }
        ValidatorAddresses genesis = ValidatorAddresses.parse(A + "@localhost:" + ports[0] + ", " + B + "@localhost:" + ports[1]);
        TcpTransport.Limits limits = TcpTransport.Limits.defaults().withTimes(1_000, 50, 200);
        LinkedBlockingQueue<Messages.Message> inbox = new LinkedBlockingQueue<>();
        try (TcpTransport zero = TcpTransport.start(new TcpTransport.Settings(3, genesis.validators(), genesis.addresses(), 0,
                limits), key(1)::sign);
                TcpTransport one = TcpTransport.start(new TcpTransport.Settings(3, genesis.validators(), genesis.addresses(), 1,
                        limits), key(2)::sign, (from, message) -> inbox.add(message))) {
            zero.send(0, 1, new Messages.BlockRequest(new Id(new byte[32])));
            assertTrue(inbox.poll(20, TimeUnit.SECONDS) instanceof Messages.BlockRequest);
        }
    }
}
