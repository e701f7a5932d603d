package org.commonweal.launcher;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

import org.commonweal.crypto.PublicKey;

import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;

/**
 * A local BFT network's distribution, made from the built dev distribution: the BFT engine in place of
 * solo, a chain of its own with one funded account, and the validators (node keys and loopback ports).
 * What {@code cw demo} runs, and what the multi-process itest boots.
 */
public final class BftDistribution {

    private BftDistribution() {
    }

    /**
     * Writes the distribution into {@code out} (feature.json and bundles/) from the built {@code dev} folder and the
     * BFT engine jar; the chain {@code chainId} funds {@code funded} with {@code balance} at genesis.
     */
    public static Path write(Path dev, Path bftJar, Path out, int chainId, PublicKey funded, long balance,
            List<PublicKey> validators, int[] ports) throws IOException {
        return write(dev, bftJar, out, chainId, java.util.Map.of(funded, balance), validators, ports);
    }

    /** As above, with every account of {@code balances} funded at genesis (in the map's order). */
    public static Path write(Path dev, Path bftJar, Path out, int chainId, java.util.Map<PublicKey, Long> balances,
            List<PublicKey> validators, int[] ports) throws IOException {
        return write(dev, bftJar, out, chainId, balances, validators, ports, null);
    }

    /**
     * A network that runs solo first: {@code sequencer} commits blocks 1 to {@code bftFrom - 1}, the other nodes follow
     * it at {@code follow} (its HTTP address), and BFT takes over at {@code bftFrom}.
     */
    public record SoloFirst(long bftFrom, PublicKey sequencer, String follow) {
    }

    /** As above; {@code soloFirst} null: BFT from the first block. */
    public static Path write(Path dev, Path bftJar, Path out, int chainId, java.util.Map<PublicKey, Long> balances,
            List<PublicKey> validators, int[] ports, SoloFirst soloFirst) throws IOException {
        try (Stream<Path> files = Files.walk(dev)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Path target = out.resolve(dev.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(file, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        String version = bftJar.getFileName().toString().replaceAll("^org\\.commonweal\\.consensus\\.bft-(.*)\\.jar$", "$1");
        Path target = out.resolve("bundles/org/commonweal/org.commonweal.consensus.bft/" + version + "/" + bftJar.getFileName());
        Files.createDirectories(target.getParent());
        Files.copy(bftJar, target, StandardCopyOption.REPLACE_EXISTING);

        JsonObject feature = Json.createReader(new StringReader(Files.readString(out.resolve("feature.json")))).readObject();
        JsonArrayBuilder bundles = Json.createArrayBuilder();
        for (JsonValue bundle : feature.getJsonArray("bundles")) {
            String id = bundle.asJsonObject().getString("id");
            if (id.contains("consensus.solo")) {
                bundles.add(Json.createObjectBuilder().add("id", "org.commonweal:org.commonweal.consensus.bft:" + version));
                if (soloFirst == null) {
                    continue;
                }
            }
            bundles.add(bundle);
        }
        JsonArrayBuilder addresses = Json.createArrayBuilder();
        for (int i = 0; i < validators.size(); i++) {
            addresses.add(validators.get(i).hex() + "@127.0.0.1:" + ports[i]);
        }
        JsonArrayBuilder genesis = Json.createArrayBuilder();
        balances.forEach((key, balance) -> genesis.add(key.hex() + "=" + balance));
        JsonObjectBuilder configurations = Json.createObjectBuilder(feature.getJsonObject("configurations"))
                .add("org.commonweal.chain", Json.createObjectBuilder().add("chainId:Integer", chainId)
                        .add("genesis.balances", genesis)
                        .add("engines", soloFirst == null ? Json.createArrayBuilder().add("bft@1")
                                : Json.createArrayBuilder().add("solo@1").add("bft@" + soloFirst.bftFrom())))
                .add("org.commonweal.consensus.bft", Json.createObjectBuilder().add("validators", addresses));
        if (soloFirst != null) {
            configurations.add("org.commonweal.consensus.solo", Json.createObjectBuilder()
                    .add("sequencer", soloFirst.sequencer().hex()).add("follow", soloFirst.follow()));
        }
        JsonObject edited = Json.createObjectBuilder(feature).add("name", "bft-local").add("bundles", bundles)
                .add("description", "A local network of " + validators.size() + " BFT validators (cw demo).")
                .add("configurations", configurations).build();
        Files.writeString(out.resolve("feature.json"), edited.toString());
        return out;
    }

    /** The BFT engine's jar in this checkout's build. */
    public static Path engineJar(Path home) throws IOException {
        try (Stream<Path> jars = Files.list(home.resolve("bundles/consensus-bft/target"))) {
            return jars.filter(p -> p.getFileName().toString().matches("org\\.commonweal\\.consensus\\.bft-[^-]+.*\\.jar")
                    && !p.getFileName().toString().contains("sources")).findFirst().orElseThrow(() -> new IOException(
                            "no BFT engine jar in " + home.resolve("bundles/consensus-bft/target") + ": build with ./mvnw install"
                                    + " -DskipTests"));
        }
    }
}
