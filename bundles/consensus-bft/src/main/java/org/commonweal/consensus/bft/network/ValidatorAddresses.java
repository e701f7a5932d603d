package org.commonweal.consensus.bft.network;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import org.commonweal.consensus.bft.protocol.ValidatorSet;
import org.commonweal.crypto.PublicKey;

/**
 * The validators of a chain and where each listens, as a distribution's genesis configuration lists them: one
 * entry per validator, {@code <node key, 64 hex digits>@<host>:<port>} ({@code [v6 address]:port} for IPv6), in
 * the validator order every node shares, separated by commas or white space. Host names stay unresolved here: the
 * transport resolves them at each dial, so a validator that moves to another address under the same name is
 * found again.
 */
public record ValidatorAddresses(ValidatorSet validators, List<InetSocketAddress> addresses) {

    public ValidatorAddresses {
        addresses = List.copyOf(addresses);
        if (addresses.size() != validators.size()) {
            throw new IllegalArgumentException(validators.size() + " validators but " + addresses.size() + " addresses");
        }
    }

    /** Entries separated by commas or white space; fails naming the entry, what is wrong and the form expected. */
    public static ValidatorAddresses parse(String list) {
        return parse(Arrays.stream(list.split("[,\\s]+")).filter(s -> !s.isEmpty()).toList());
    }

    /** One entry per element (an OSGi configuration's string array). */
    public static ValidatorAddresses parse(List<String> entries) {
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("the validator list is empty: give each validator as <node key>@<host>:<port>");
        }
        List<PublicKey> keys = new ArrayList<>();
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            String entry = entries.get(i).strip();
            String problem = "validator " + i + " ('" + entry + "') ";
            int at = entry.indexOf('@');
            if (at < 0) {
                throw new IllegalArgumentException(problem + "has no '@': write it as <64 hex digit node key>@<host>:<port>");
            }
            PublicKey key;
            try {
                key = PublicKey.fromHex(entry.substring(0, at));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(problem + "has no valid node key before '@': " + e.getMessage(), e);
            }
            if (keys.contains(key)) {
                throw new IllegalArgumentException(problem + "repeats the node key of validator " + keys.indexOf(key)
                        + ": each validator is listed once");
            }
            keys.add(key);
            addresses.add(address(entry.substring(at + 1), problem));
        }
        if (entries.size() > 1 && addresses.stream().anyMatch(a -> a.getPort() == 0)) {
            throw new IllegalArgumentException("port 0 (any free port) suits only a single-validator network: the other"
                    + " validators could not dial it; give every validator its port");
        }
        return new ValidatorAddresses(new ValidatorSet(keys), addresses);
    }

    private static InetSocketAddress address(String hostPort, String problem) {
        int colon = hostPort.lastIndexOf(':');
        String host = colon < 0 ? "" : hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException(problem + "has an IPv6 address without brackets: write [address]:port");
        }
        if (colon < 0 || host.isEmpty()) {
            throw new IllegalArgumentException(problem + "has no <host>:<port> after '@'");
        }
        int port;
        try {
            port = Integer.parseInt(hostPort.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(problem + "has no port from 1 to 65535 (or 0 alone) after the host");
        }
        return InetSocketAddress.createUnresolved(host, port);
    }

    /** This node's index among the validators, if its node key is one of theirs. */
    public Optional<Integer> indexOf(PublicKey nodeKey) {
        int index = validators.keys().indexOf(nodeKey);
        return index < 0 ? Optional.empty() : Optional.of(index);
    }
}
