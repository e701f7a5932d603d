package org.commonweal.repo;

import java.util.List;

import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;

/**
 * A CycloneDX 1.6 SBOM (JSON) of an assembled distribution: one component per bundle with its Maven coordinates,
 * package URL and SHA-256, and its OSGi identity and publisher key as properties. No timestamp and no random serial
 * number, so that assembling twice gives the same bytes.
 */
public final class Sbom {

    public static final String FILE = "sbom.cdx.json";

    private Sbom() {
    }

    public static byte[] of(String name, String version, List<Artifact> artifacts) {
        JsonArrayBuilder components = Json.createArrayBuilder();
        for (Artifact artifact : artifacts) {
            String[] gav = artifact.mavenId().split(":");
            String purl = "pkg:maven/" + gav[0] + "/" + gav[1] + "@" + gav[2];
            components.add(Json.createObjectBuilder().add("type", "library").add("bom-ref", purl).add("group", gav[0])
                    .add("name", gav[1]).add("version", gav[2]).add("purl", purl)
                    .add("hashes", Json.createArrayBuilder().add(Json.createObjectBuilder().add("alg", "SHA-256")
                            .add("content", artifact.sha256())))
                    .add("properties", Json.createArrayBuilder()
                            .add(property("osgi:symbolic-name", artifact.symbolicName()))
                            .add(property("osgi:version", artifact.version().toString()))
                            .add(property("commonweal:publisher", artifact.publisher().hex()))));
        }
        return JsonBytes.bytes(Json.createObjectBuilder().add("bomFormat", "CycloneDX").add("specVersion", "1.6")
                .add("version", 1)
                .add("metadata", Json.createObjectBuilder().add("component", Json.createObjectBuilder()
                        .add("type", "application").add("name", name).add("version", version)))
                .add("components", components).build());
    }

    private static jakarta.json.JsonObjectBuilder property(String name, String value) {
        return Json.createObjectBuilder().add("name", name).add("value", value);
    }
}
