package org.commonweal.launcher;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.commonweal.crypto.Sha256;
import org.commonweal.repo.Artifact;
import org.commonweal.repo.FrameworkResource;
import org.commonweal.repo.LockFile;
import org.commonweal.repo.RepositoryException;
import org.commonweal.repo.RepositoryIndex;
import org.commonweal.repo.RepositorySource;
import org.commonweal.repo.RepositoryVerifier;
import org.commonweal.repo.Resolution;
import org.commonweal.repo.Sbom;
import org.commonweal.repo.TarArchive;
import org.commonweal.repo.TrustPolicy;
import org.osgi.service.feature.Feature;
import org.osgi.service.feature.FeatureBundle;
import org.osgi.service.feature.FeatureExtension;

import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import jakarta.json.stream.JsonGenerator;

/**
 * {@code cw assemble}: from a distribution's feature file and a signed repository, a self-contained runnable
 * distribution. The feature's bundles and the requirements of its {@value #EXTENSION} extension are resolved against
 * the repository's index (or taken exactly from the lock file), every chosen bundle is checked (index signature,
 * publisher signature, trust, size, SHA-256) before it is written, and the result is a folder and a {@code .tar.gz}
 * holding the launcher, the bundles, the feature, the index, the lock file and an SBOM. The same inputs always give
 * the same archive.
 */
final class Assembler {

    /** The feature extension with what assembly needs beyond the spec: requirements, trust, repositories. */
    static final String EXTENSION = "commonweal-assembly";
    /** Every file of an assembled distribution carries this time (the build's project.build.outputTimestamp). */
    /** Where an assembled distribution keeps the signed index its bundles came from. */
    static final String ASSEMBLED_INDEX_DIR = "repository";
    static final long TIMESTAMP = 1767225600L; // 2026-01-01T00:00:00Z

    /** What to assemble and how. {@code repository} and {@code out} may be null (the feature's / the default). */
    record Options(Path source, String repository, Path out, boolean update, List<Path> launcherJars) {
    }

    /** The feature's assembly inputs, read and checked. */
    record Source(Path directory, Path featureFile, Feature feature, JsonObject featureJson, List<Resolution.Need> needs,
            TrustPolicy trust, List<String> repositories, String inputsSha256) {

        String name() {
            return feature.getName().orElse(feature.getID().getArtifactId());
        }

        Path lockFile() {
            return directory.resolve(LockFile.FILE);
        }
    }

    /** What an assembly produced. */
    record Result(Path folder, Path archive, List<Artifact> artifacts, boolean resolved, RepositoryVerifier.VerifiedIndex index,
            Map<String, Long> nanos) {
    }

    private Assembler() {
    }

    static Source source(Path directory) throws LaunchException, RepositoryException {
        Path featureFile = directory.resolve(Distribution.FEATURE_FILE);
        if (!Files.isRegularFile(featureFile)) {
            throw new LaunchException("distribution " + directory + " has no " + Distribution.FEATURE_FILE + ". Fix: name a"
                    + " folder under distributions/ (e.g. distributions/dev) that holds one");
        }
        try {
            if (Files.readString(featureFile).contains("${")) {
                // A feature of this build, with versions filled in by Maven into target/dist.
                Path built = directory.resolve("target").resolve("dist").resolve(Distribution.FEATURE_FILE);
                if (!Files.isRegularFile(built)) {
                    throw new LaunchException("feature " + featureFile + " takes its versions from the build (${...}), and"
                            + " it is not built (no " + built + "). Fix: ./mvnw install -DskipTests");
                }
                featureFile = built;
            }
            Feature feature = Distribution.read(featureFile);
            JsonObject json = Json.createReader(new StringReader(Files.readString(featureFile))).readObject();
            List<Resolution.Need> needs = new ArrayList<>();
            StringBuilder inputs = new StringBuilder();
            for (FeatureBundle bundle : feature.getBundles()) {
                needs.add(Resolution.Need.bundle(bundle.getID().toString()));
                inputs.append("bundle ").append(bundle.getID()).append('\n');
            }
            TrustPolicy trust = null;
            List<String> repositories = new ArrayList<>();
            FeatureExtension extension = feature.getExtensions().get(EXTENSION);
            if (extension != null) {
                if (extension.getType() != FeatureExtension.Type.JSON) {
                    throw new LaunchException("feature " + featureFile + ": extension " + EXTENSION + " must be of type json");
                }
                JsonObject assembly = Json.createReader(new StringReader(extension.getJSON())).readObject();
                for (JsonValue value : assembly.getOrDefault("requirements", JsonValue.EMPTY_JSON_ARRAY).asJsonArray()) {
                    JsonObject requirement = value.asJsonObject();
                    String namespace = requirement.getString("namespace");
                    String filter = requirement.getString("filter");
                    String description = requirement.getString("description", namespace + " " + filter);
                    try {
                        org.osgi.framework.FrameworkUtil.createFilter(filter);
                    } catch (org.osgi.framework.InvalidSyntaxException e) {
                        throw new LaunchException("feature " + featureFile + ": requirement '" + description + "' has an"
                                + " invalid filter " + filter + " (" + e.getMessage() + "). Fix: write an LDAP filter such"
                                + " as (&(commonweal.engine=consensus)(kind=bft))", e);
                    }
                    needs.add(Resolution.Need.of(namespace, filter, description));
                    inputs.append("requirement ").append(namespace).append(' ').append(filter).append('\n');
                }
                JsonValue trustValue = assembly.get("trust");
                if (trustValue instanceof jakarta.json.JsonString file) {
                    // The distribution's trust file, beside the feature (or wherever the path says).
                    trust = TrustPolicy.read(directory.resolve(file.getString()).normalize());
                } else if (trustValue != null) {
                    trust = TrustPolicy.of(trustValue.asJsonObject(), directory.toAbsolutePath(),
                            featureFile + " (" + EXTENSION + " trust)");
                }
                assembly.getOrDefault("repositories", JsonValue.EMPTY_JSON_ARRAY).asJsonArray().getValuesAs(jakarta.json.JsonString.class)
                        .forEach(r -> repositories.add(r.getString()));
            }
            if (trust == null) {
                throw new LaunchException("feature " + featureFile + " names no trust roots (extension " + EXTENSION + ","
                        + " \"trust\"), so no bundle could be accepted. Fix: add the publishers this distribution trusts"
                        + " (see the README, \"Bundle repository\")");
            }
            String name = feature.getName().orElse(feature.getID().getArtifactId());
            if (!name.matches("[A-Za-z0-9_][A-Za-z0-9._-]*")) {
                throw new LaunchException("feature " + featureFile + " is named '" + name + "', which cannot name a folder"
                        + " (the assembly is written to OUT/<name>). Fix: a name of letters, digits, '.', '_' and '-'");
            }
            String inputsSha256 = HexFormat.of().formatHex(Sha256.hash(inputs.toString().getBytes(StandardCharsets.UTF_8)));
            return new Source(directory, featureFile, feature, json, needs, trust, repositories, inputsSha256);
        } catch (IOException e) {
            throw new LaunchException("feature " + featureFile + " cannot be read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new LaunchException("feature " + featureFile + ": the " + EXTENSION + " extension is not in the expected"
                    + " shape (" + e.getMessage() + "). Fix: see the README, \"Bundle repository\"", e);
        }
    }

    static RepositorySource repository(Source source, String option) throws LaunchException {
        if (option != null) {
            return RepositorySource.of(option);
        }
        if (source.repositories().isEmpty()) {
            throw new LaunchException("feature " + source.featureFile() + " names no repository (extension " + EXTENSION
                    + ", \"repositories\"). Fix: --repo DIR|URL, or add one to the feature");
        }
        String first = source.repositories().get(0);
        return first.contains("://") ? RepositorySource.of(first)
                : RepositorySource.of(source.directory().resolve(first).normalize().toString());
    }

    /** The bundles of the distribution: exactly the lock file's if there is one (unless update), else resolved. */
    static List<Artifact> select(Source source, RepositoryVerifier.VerifiedIndex verified, boolean update, boolean[] resolved)
            throws RepositoryException {
        Path lockFile = source.lockFile();
        if (Files.isRegularFile(lockFile) && !update) {
            LockFile lock = LockFile.read(lockFile);
            if (!lock.inputsSha256().equals(source.inputsSha256())) {
                throw new RepositoryException("lock file " + lockFile + " was made for other inputs: the feature's bundles or"
                        + " requirements changed since. Fix: assemble with --update to resolve again and rewrite the lock");
            }
            resolved[0] = false;
            return lock.select(verified.index(), lockFile);
        }
        resolved[0] = true;
        return Resolution.resolve(source.name(), verified.index(), FrameworkResource.of(frameworkProperties(source)), source.needs())
                .artifacts();
    }

    /** The framework properties the distribution will run with: the runtime's, then the feature's. */
    static Map<String, String> frameworkProperties(Source source) {
        Map<String, String> properties = new LinkedHashMap<>(RuntimeSettings.frameworkProperties());
        FeatureExtension extension = source.feature().getExtensions().get(Distribution.FRAMEWORK_PROPERTIES_EXTENSION);
        if (extension != null && extension.getType() == FeatureExtension.Type.JSON) {
            Json.createReader(new StringReader(extension.getJSON())).readObject().forEach((k, v) -> properties.put(k,
                    v instanceof jakarta.json.JsonString s ? s.getString() : v.toString()));
        }
        return properties;
    }

    static Result assemble(Options options) throws LaunchException, RepositoryException, IOException {
        Map<String, Long> nanos = new LinkedHashMap<>();
        long mark = System.nanoTime();
        Source source = source(options.source());
        RepositorySource repository = repository(source, options.repository());
        RepositoryVerifier verifier = new RepositoryVerifier(source.trust());
        RepositoryVerifier.VerifiedIndex verified = verifier.verifyIndex(repository);
        nanos.put("read feature, verify and parse index", System.nanoTime() - mark);
        mark = System.nanoTime();
        boolean[] resolved = new boolean[1];
        List<Artifact> artifacts = select(source, verified, options.update(), resolved);
        nanos.put(resolved[0] ? "resolve" : "select from lock file", System.nanoTime() - mark);
        mark = System.nanoTime();
        // Every check passes, for every bundle, before anything is written.
        Map<Artifact, byte[]> jars = new LinkedHashMap<>();
        for (Artifact artifact : artifacts) {
            String where = verified.source().describe();
            verifier.verifyEntry(artifact, where);
        }
        for (Artifact artifact : artifacts) {
            jars.put(artifact, verifier.readVerified(verified, artifact));
        }
        nanos.put("verify every bundle (signature, trust, SHA-256)", System.nanoTime() - mark);
        mark = System.nanoTime();
        LockFile lock = LockFile.of(source.feature().getID().toString(), source.inputsSha256(), artifacts);
        if (resolved[0]) {
            Files.write(source.lockFile(), lock.toBytes());
        }

        Path out = options.out() != null ? options.out() : source.directory().resolve("target").resolve("assembly");
        String name = source.name();
        Path folder = out.resolve(name);
        deleteRecursively(folder);
        Files.createDirectories(folder);
        for (Map.Entry<Artifact, byte[]> jar : jars.entrySet()) {
            Path file = folder.resolve(Distribution.BUNDLES_DIR).resolve(repositoryPath(jar.getKey().mavenId()));
            Files.createDirectories(file.getParent());
            Files.write(file, jar.getValue());
        }
        Files.write(folder.resolve(Distribution.FEATURE_FILE), assembledFeature(source, artifacts));
        Files.write(folder.resolve(LockFile.FILE), lock.toBytes());
        Files.write(folder.resolve(Sbom.FILE), Sbom.of(name, source.feature().getID().getVersion(), artifacts));
        Path index = folder.resolve(ASSEMBLED_INDEX_DIR);
        Files.createDirectories(index);
        Files.write(index.resolve(RepositoryIndex.INDEX_FILE), verified.xml());
        Files.write(index.resolve(RepositoryIndex.SIGNATURE_FILE), verified.signature().toBytes());
        Files.writeString(folder.resolve("jvm.options"), RuntimeSettings.jvmOptions());
        Path lib = folder.resolve("lib");
        Files.createDirectories(lib);
        for (Path jar : options.launcherJars()) {
            Files.copy(jar, lib.resolve(jar.getFileName()));
        }
        Path script = folder.resolve("bin").resolve("cw-node");
        Files.createDirectories(script.getParent());
        Files.writeString(script, LAUNCH_SCRIPT.replace("@NAME@", name));
        script.toFile().setExecutable(true, false);
        nanos.put("write the folder", System.nanoTime() - mark);
        mark = System.nanoTime();
        Path archive = out.resolve(name + ".tar.gz");
        TarArchive.write(folder, name, TIMESTAMP, archive);
        nanos.put("write the archive (tar.gz)", System.nanoTime() - mark);
        return new Result(folder, archive, artifacts, resolved[0], verified, nanos);
    }

    private static final String LAUNCH_SCRIPT = """
            #!/bin/sh
            # Runs the Commonweal distribution @NAME@ from this folder: bundles/, feature.json, the launcher in lib/,
            # the JVM flags in jvm.options. Needs a JDK 25 or newer: $JAVA_HOME/bin/java, else java on the PATH.
            # Options are cw node's: --port N, --data DIR (default ./data), --shell.
            set -eu
            here=$(cd "$(dirname "$0")/.." && pwd)
            java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
            exec "$java" @"$here/jvm.options" -Dcommonweal.home="$here" -cp "$here/lib/*" org.commonweal.launcher.Cw node \\
              --dist "$here" "$@"
            """;

    /**
     * The source feature with its bundle list replaced by the chosen bundles, in order, and its assembly extension
     * made self-contained: trust keys in hex, the repository the copy of the index under repository/.
     */
    private static byte[] assembledFeature(Source source, List<Artifact> artifacts) {
        JsonObject feature = source.featureJson();
        JsonObject extensions = feature.getJsonObject("extensions");
        if (extensions != null && extensions.containsKey(EXTENSION)) {
            JsonObject extension = extensions.getJsonObject(EXTENSION);
            JsonObject assembly = Json.createObjectBuilder(extension.getJsonObject("json"))
                    .add("repositories", Json.createArrayBuilder().add(ASSEMBLED_INDEX_DIR))
                    .add("trust", source.trust().toJson()).build();
            feature = Json.createObjectBuilder(feature).add("extensions", Json.createObjectBuilder(extensions)
                    .add(EXTENSION, Json.createObjectBuilder(extension).add("json", assembly))).build();
        }
        JsonObjectBuilder out = Json.createObjectBuilder();
        JsonArrayBuilder bundles = Json.createArrayBuilder();
        artifacts.forEach(a -> bundles.add(Json.createObjectBuilder().add("id", a.mavenId())));
        boolean added = false;
        for (Map.Entry<String, JsonValue> entry : feature.entrySet()) {
            if (entry.getKey().equals("bundles")) {
                out.add("bundles", bundles);
                added = true;
            } else {
                out.add(entry.getKey(), entry.getValue());
            }
        }
        if (!added) {
            out.add("bundles", bundles);
        }
        java.io.StringWriter text = new java.io.StringWriter();
        try (var writer = Json.createWriterFactory(Map.of(JsonGenerator.PRETTY_PRINTING, true)).createWriter(text)) {
            writer.write(out.build());
        }
        return (text.toString().strip() + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /**
     * At start, an assembled distribution (one with {@value #ASSEMBLED_INDEX_DIR}/index.xml) is checked as it was at
     * assembly: the index against its signature and the feature's trust roots, each bundle against its signed entry
     * and its SHA-256. A folder built by Maven (distributions/NAME/target/dist) has no index and is not checked.
     */
    static void verifyAssembled(Distribution distribution) throws LaunchException {
        Path indexDir = distribution.directory().resolve(ASSEMBLED_INDEX_DIR);
        if (!Files.isRegularFile(indexDir.resolve(RepositoryIndex.INDEX_FILE))) {
            return;
        }
        try {
            Source source = source(distribution.directory());
            RepositoryVerifier verifier = new RepositoryVerifier(source.trust());
            RepositoryVerifier.VerifiedIndex verified = verifier.verifyIndex(RepositorySource.of(indexDir.toString()));
            Map<String, Artifact> byId = new LinkedHashMap<>();
            verified.index().artifacts().forEach(a -> byId.put(a.mavenId(), a));
            for (Distribution.BundleArtifact bundle : distribution.bundles()) {
                Artifact artifact = byId.get(bundle.id());
                if (artifact == null) {
                    throw new LaunchException("bundle " + bundle.id() + " (" + bundle.jar() + ") is not in the signed index "
                            + indexDir.resolve(RepositoryIndex.INDEX_FILE) + ": it was added after assembly. Fix: assemble the"
                            + " distribution again with cw assemble");
                }
                verifier.verifyEntry(artifact, indexDir.toString());
                byte[] jar = Files.readAllBytes(bundle.jar());
                String sha256 = HexFormat.of().formatHex(Sha256.hash(jar));
                if (!sha256.equals(artifact.sha256())) {
                    throw new LaunchException("bundle " + artifact.name() + " (" + bundle.jar() + ") is refused: its SHA-256 "
                            + sha256 + " is not the signed " + artifact.sha256() + "; it was changed after assembly. Fix:"
                            + " assemble the distribution again with cw assemble, or restore it from its archive");
                }
            }
        } catch (RepositoryException e) {
            throw new LaunchException(e.getMessage(), e);
        } catch (IOException e) {
            throw new LaunchException("distribution " + distribution.directory() + " cannot be checked: " + e, e);
        }
    }

    static Path repositoryPath(String mavenId) {
        String[] gav = mavenId.split(":");
        return Path.of(gav[0].replace('.', '/'), gav[1], gav[2], gav[1] + "-" + gav[2] + ".jar");
    }

    /** The jars of this JVM's class path: the launcher an assembled distribution carries. */
    static List<Path> launcherJars() {
        List<Path> jars = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (entry.endsWith(".jar") && Files.isRegularFile(Path.of(entry))) {
                jars.add(Path.of(entry));
            }
        }
        return jars;
    }

    static void deleteRecursively(Path directory) throws IOException {
        if (Files.exists(directory)) {
            try (var files = Files.walk(directory)) {
                for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(file);
                }
            }
        }
    }
}
