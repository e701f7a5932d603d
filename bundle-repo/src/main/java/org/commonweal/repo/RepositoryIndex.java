package org.commonweal.repo;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.jar.JarInputStream;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;

import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.osgi.framework.Version;
import org.osgi.resource.Capability;
import org.osgi.resource.Requirement;
import org.osgi.resource.Resource;
import org.osgi.service.repository.ContentNamespace;

import aQute.bnd.osgi.Domain;
import aQute.bnd.osgi.repository.XMLResourceParser;
import aQute.bnd.osgi.resource.CapabilityBuilder;
import aQute.bnd.osgi.resource.ResourceBuilder;
import aQute.bnd.osgi.resource.ResourceUtils;
import aQute.bnd.osgi.resource.TypedAttribute;

/**
 * The repository's index: an OSGi R5 repository document ({@code http://www.osgi.org/xmlns/repository/v1.0.0}),
 * described by bnd from each bundle's manifest (identity, content with SHA-256, size and URL, packages, services,
 * extenders, execution environments, and every other capability and requirement). Each resource also carries a
 * {@value #ARTIFACT_NAMESPACE} capability: the Maven id a feature names the bundle by, the publisher's key and its
 * signature. Output is deterministic: resources sorted by symbolic name and version, no timestamp, content URLs
 * relative to the index, so the same bundles always give the same bytes.
 */
public final class RepositoryIndex {

    public static final String INDEX_FILE = "index.xml";
    public static final String SIGNATURE_FILE = "index.xml.sig";
    public static final String BUNDLES_DIR = "bundles";
    /** The capability that names, pins and signs an artifact (attributes: the Maven id, publisher, signature). */
    public static final String ARTIFACT_NAMESPACE = "commonweal.artifact";
    static final String PUBLISHER_ATTRIBUTE = "publisher";
    static final String SIGNATURE_ATTRIBUTE = "signature";
    static final String NAME = "commonweal";
    static final String NAMESPACE = "http://www.osgi.org/xmlns/repository/v1.0.0";
    static final String BUNDLE_MIME = "application/vnd.osgi.bundle";

    /** group:artifact:version, each part a plain name: it becomes a path in an assembled distribution. */
    static final java.util.regex.Pattern MAVEN_ID = java.util.regex.Pattern
            .compile("[A-Za-z0-9_][A-Za-z0-9._-]*:[A-Za-z0-9_][A-Za-z0-9._-]*:[A-Za-z0-9_][A-Za-z0-9._+-]*");

    /** Content URLs are written relative to this and resolved against it when read. */
    private static final URI BASE = URI.create("file:/repository/");

    private final List<Artifact> artifacts;

    private RepositoryIndex(List<Artifact> artifacts) {
        List<Artifact> sorted = new ArrayList<>(artifacts);
        sorted.sort(Comparator.comparing(Artifact::symbolicName).thenComparing(Artifact::version));
        this.artifacts = List.copyOf(sorted);
    }

    public static RepositoryIndex empty() {
        return new RepositoryIndex(List.of());
    }

    public List<Artifact> artifacts() {
        return artifacts;
    }

    public Optional<Artifact> find(String symbolicName, Version version) {
        return artifacts.stream().filter(a -> a.symbolicName().equals(symbolicName) && a.version().equals(version))
                .findFirst();
    }

    /** This index with {@code artifact} added, replacing an entry of the same symbolic name and version. */
    public RepositoryIndex with(Artifact artifact) {
        List<Artifact> next = new ArrayList<>(artifacts);
        next.removeIf(a -> a.symbolicName().equals(artifact.symbolicName()) && a.version().equals(artifact.version()));
        next.add(artifact);
        return new RepositoryIndex(next);
    }

    /**
     * The index document (UTF-8 XML), the same bytes for the same artifacts. Written here rather than by bnd's
     * XMLResourceGenerator because the R5 schema (repository.xsd) wants what bnd does not write: local elements
     * unqualified (only the root in the namespace) and each resource's requirements before its capabilities.
     * Directives and attributes are sorted by name; values and types are bnd's ({@code TypedAttribute}).
     */
    public byte[] toXml() {
        StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        xml.append("<repo:repository xmlns:repo=\"").append(NAMESPACE).append("\" name=\"").append(NAME)
                .append("\" increment=\"0\">\n");
        for (Artifact artifact : artifacts) {
            xml.append("  <resource>\n");
            for (Requirement requirement : artifact.resource().getRequirements(null)) {
                element(xml, "requirement", requirement.getNamespace(), requirement.getDirectives(), requirement.getAttributes());
            }
            for (Capability capability : artifact.resource().getCapabilities(null)) {
                Map<String, Object> attributes = capability.getAttributes();
                if (ContentNamespace.CONTENT_NAMESPACE.equals(capability.getNamespace())) {
                    attributes = new TreeMap<>(attributes);
                    attributes.put(ContentNamespace.CAPABILITY_URL_ATTRIBUTE, artifact.path());
                }
                element(xml, "capability", capability.getNamespace(), capability.getDirectives(), attributes);
            }
            xml.append("  </resource>\n");
        }
        xml.append("</repo:repository>\n");
        return xml.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void element(StringBuilder xml, String tag, String namespace, Map<String, String> directives,
            Map<String, Object> attributes) {
        xml.append("    <").append(tag).append(" namespace=\"").append(escape(namespace)).append("\">\n");
        new TreeMap<>(directives).forEach((name, value) -> xml.append("      <directive name=\"").append(escape(name))
                .append("\" value=\"").append(escape(value)).append("\"/>\n"));
        new TreeMap<>(attributes).forEach((name, value) -> {
            TypedAttribute typed = TypedAttribute.getTypedAttribute(value);
            if (typed == null) {
                throw new IllegalArgumentException("attribute " + name + " of " + namespace + " has a value of a type an"
                        + " index cannot hold: " + value.getClass().getName());
            }
            xml.append("      <attribute name=\"").append(escape(name)).append("\" value=\"").append(escape(typed.value))
                    .append('"');
            if (typed.type != null) {
                xml.append(" type=\"").append(escape(typed.type)).append('"');
            }
            xml.append("/>\n");
        });
        xml.append("    </").append(tag).append(">\n");
    }

    private static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\n' -> out.append("&#10;");
                case '\r' -> out.append("&#13;");
                case '\t' -> out.append("&#9;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    /** Reads an index document; {@code where} names it in messages. Signatures are not checked here. */
    public static RepositoryIndex parse(byte[] xml, String where) throws RepositoryException {
        // An index may refer to other indexes, which the parser would fetch: ours never do, and nothing is fetched
        // behind the verifier's back.
        String text = new String(xml, StandardCharsets.UTF_8);
        if (text.contains("<!DOCTYPE") || text.contains("<!ENTITY")) {
            throw new RepositoryException("index " + where + " declares a DOCTYPE or entities, which a Commonweal index never"
                    + " does (they can make a parser read other files). Fix: re-publish to the repository with cw repo publish");
        }
        if (text.contains("<referral")) {
            throw new RepositoryException("index " + where + " refers to other indexes (<referral>), which a Commonweal"
                    + " repository never does. Fix: publish those bundles into this repository instead");
        }
        List<Resource> resources;
        try (InputStream in = new ByteArrayInputStream(xml)) {
            resources = XMLResourceParser.getResources(in, BASE);
        } catch (Exception e) {
            throw new RepositoryException("index " + where + " cannot be read as an OSGi repository index ("
                    + e.getMessage() + "). Fix: fetch the repository again, or re-publish to it", e);
        }
        List<Artifact> artifacts = new ArrayList<>();
        for (Resource resource : resources) {
            artifacts.add(artifact(resource, where));
        }
        return new RepositoryIndex(artifacts);
    }

    private static Artifact artifact(Resource resource, String where) throws RepositoryException {
        try {
            String bsn = ResourceUtils.getIdentity(resource);
            Version version = Version.parseVersion(ResourceUtils.getVersion(resource).toString());
            Capability content = single(resource, ContentNamespace.CONTENT_NAMESPACE);
            Capability artifact = single(resource, ARTIFACT_NAMESPACE);
            URI url = URI.create(content.getAttributes().get(ContentNamespace.CAPABILITY_URL_ATTRIBUTE).toString());
            String path = BASE.relativize(url).toString();
            if (path.startsWith("/") || path.contains(":") || path.contains("..")) {
                throw new IllegalArgumentException("its content URL " + url + " is not inside the repository");
            }
            String mavenId = (String) artifact.getAttributes().get(ARTIFACT_NAMESPACE);
            if (mavenId == null || !MAVEN_ID.matcher(mavenId).matches()) {
                throw new IllegalArgumentException("'" + mavenId + "' is not a Maven id group:artifact:version");
            }
            return new Artifact(bsn, version, mavenId,
                    (String) content.getAttributes().get(ContentNamespace.CONTENT_NAMESPACE),
                    ((Number) content.getAttributes().get(ContentNamespace.CAPABILITY_SIZE_ATTRIBUTE)).longValue(), path,
                    PublicKey.fromHex((String) artifact.getAttributes().get(PUBLISHER_ATTRIBUTE)),
                    HexFormat.of().parseHex((String) artifact.getAttributes().get(SIGNATURE_ATTRIBUTE)), resource);
        } catch (RuntimeException e) {
            throw new RepositoryException("index " + where + " has an entry that is not a signed Commonweal artifact ("
                    + resource + ": " + e.getMessage() + "). Fix: re-publish that bundle with cw repo publish", e);
        }
    }

    private static Capability single(Resource resource, String namespace) {
        List<Capability> capabilities = resource.getCapabilities(namespace);
        if (capabilities.size() != 1) {
            throw new IllegalArgumentException(capabilities.size() + " " + namespace + " capabilities, not 1");
        }
        return capabilities.get(0);
    }

    /** A bundle's manifest, its Maven id (from its pom.properties when it has exactly one) and what it is. */
    record BundleJar(String symbolicName, Version version, String mavenId, Manifest manifest) {
    }

    /**
     * Reads a jar as a bundle; {@code mavenId} may be null (then it comes from the jar's pom.properties, else is
     * {@code bsn:bsn:version}).
     */
    static BundleJar readBundle(byte[] jar, String where, String mavenId) throws RepositoryException {
        Manifest manifest;
        List<Properties> poms = new ArrayList<>();
        try (JarInputStream in = new JarInputStream(new ByteArrayInputStream(jar))) {
            manifest = in.getManifest();
            for (ZipEntry entry; (entry = in.getNextEntry()) != null;) {
                if (entry.getName().startsWith("META-INF/maven/") && entry.getName().endsWith("/pom.properties")) {
                    Properties pom = new Properties();
                    pom.load(in);
                    poms.add(pom);
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new RepositoryException(where + " is not a jar (" + e.getMessage() + "). Fix: publish the bundle's jar", e);
        }
        if (manifest == null) {
            throw new RepositoryException(where + " is not a bundle: it has no META-INF/MANIFEST.MF (or not as its first"
                    + " entries). Fix: build it with bnd (bnd-maven-plugin) so that it has an OSGi manifest");
        }
        var main = manifest.getMainAttributes();
        String bsnHeader = main.getValue("Bundle-SymbolicName");
        if (bsnHeader == null || bsnHeader.isBlank()) {
            throw new RepositoryException(where + " is not a bundle: its manifest has no Bundle-SymbolicName. Fix: build it"
                    + " with bnd (bnd-maven-plugin), which writes an OSGi manifest");
        }
        if (!"2".equals(main.getValue("Bundle-ManifestVersion"))) {
            throw new RepositoryException(where + " is not an OSGi R4+ bundle: Bundle-ManifestVersion is "
                    + main.getValue("Bundle-ManifestVersion") + ", not 2. Fix: rebuild it with bnd");
        }
        String bsn = bsnHeader.split(";", 2)[0].strip();
        Version version;
        try {
            version = Version.parseVersion(main.getValue("Bundle-Version"));
        } catch (IllegalArgumentException e) {
            throw new RepositoryException(where + " (bundle " + bsn + ") has an invalid Bundle-Version '"
                    + main.getValue("Bundle-Version") + "'. Fix: give it a version major.minor.micro[.qualifier]", e);
        }
        if (mavenId == null) {
            mavenId = poms.size() == 1
                    ? poms.get(0).getProperty("groupId") + ":" + poms.get(0).getProperty("artifactId") + ":"
                            + poms.get(0).getProperty("version")
                    : bsn + ":" + bsn + ":" + version;
        }
        if (!MAVEN_ID.matcher(mavenId).matches()) {
            throw new RepositoryException(where + " (bundle " + bsn + "): '" + mavenId + "' is not a Maven id"
                    + " group:artifact:version (letters, digits, '.', '_', '-'). Fix: publish it from a Maven-layout folder"
                    + " or give the jar a META-INF/maven/.../pom.properties");
        }
        return new BundleJar(bsn, version, mavenId, manifest);
    }

    /** The index entry of a bundle about to be published, signed by {@code key}. */
    static Artifact describe(BundleJar bundle, String sha256, long size, String path, PrivateKey key, String where)
            throws RepositoryException {
        ResourceBuilder builder = new ResourceBuilder();
        try {
            if (!builder.addManifest(Domain.domain(bundle.manifest()))) {
                throw new IllegalArgumentException("bnd found no bundle identity in it");
            }
        } catch (RuntimeException e) {
            throw new RepositoryException(where + " (bundle " + bundle.symbolicName() + ") has a manifest bnd cannot read"
                    + " (" + e.getMessage() + "). Fix: rebuild it with bnd and check its headers", e);
        }
        builder.addContentCapability(BASE.resolve(path), sha256, size, BUNDLE_MIME);
        byte[] signature = key.sign(Artifact.statement(bundle.symbolicName(), bundle.version(), bundle.mavenId(), sha256));
        CapabilityBuilder artifact = new CapabilityBuilder(ARTIFACT_NAMESPACE);
        try {
            artifact.addAttribute(ARTIFACT_NAMESPACE, bundle.mavenId());
            artifact.addAttribute(PUBLISHER_ATTRIBUTE, key.publicKey().hex());
            artifact.addAttribute(SIGNATURE_ATTRIBUTE, HexFormat.of().formatHex(signature));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        builder.addCapability(artifact);
        return new Artifact(bundle.symbolicName(), bundle.version(), bundle.mavenId(), sha256, size, path,
                key.publicKey(), signature, builder.build());
    }
}
