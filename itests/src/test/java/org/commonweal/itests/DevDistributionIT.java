package org.commonweal.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;

import javax.inject.Inject;

import org.commonweal.node.api.HealthCheck;
import org.commonweal.node.api.NodeIdentity;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.service.cm.ConfigurationAdmin;

/** The dev distribution inside the real framework (Felix, booted by Pax Exam from the feature file). */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class DevDistributionIT {

    @Inject
    private BundleContext context;

    @Inject
    private NodeIdentity identity;

    @Inject
    private ConfigurationAdmin configurationAdmin;

    /** Runs outside the framework; the test methods run inside it and read the port back from it. */
    @Configuration
    public Option[] configuration() {
        return DevDistribution.paxExamOptions(DevDistribution.workFolder("dev-distribution"), DevDistribution.freePort());
    }

    @Test
    public void everyBundleIsActive() {
        List<String> notActive = new ArrayList<>();
        for (Bundle bundle : context.getBundles()) {
            boolean fragment = (bundle.adapt(BundleRevision.class).getTypes() & BundleRevision.TYPE_FRAGMENT) != 0;
            int expected = fragment ? Bundle.RESOLVED : Bundle.ACTIVE;
            if (bundle.getState() != expected) {
                notActive.add(bundle.getSymbolicName() + " state " + bundle.getState());
            }
        }
        assertEquals("bundles not ACTIVE: " + notActive, List.of(), notActive);
        for (String name : List.of("org.commonweal.node", "org.commonweal.node.api", "org.apache.felix.scr",
                "org.apache.felix.http.jetty12", "org.apache.felix.gogo.shell")) {
            assertTrue(name + " is installed", List.of(context.getBundles()).stream()
                    .anyMatch(bundle -> name.equals(bundle.getSymbolicName())));
        }
    }

    @Test
    public void kernelsRunInsideTheFrameworkWithTheVectorApi() throws Exception {
        // The kernels bundle wires jdk.incubator.vector to the system bundle (framework.properties) and
        // computes inside Felix exactly what its own tests define: dot16 of the dequantized row.
        Bundle kernels = bundle("org.commonweal.kernels");
        Class<?> weightMatrix = kernels.loadClass("org.commonweal.kernels.types.WeightMatrix");
        Class<?> type = kernels.loadClass("org.commonweal.kernels.types.GgmlType");
        Class<?> pool = kernels.loadClass("org.commonweal.kernels.KernelPool");
        Class<?> matrixKernels = kernels.loadClass("org.commonweal.kernels.MatrixKernels");
        float[] weights = new float[64];
        float[] x = new float[64];
        for (int i = 0; i < 64; i++) {
            weights[i] = i * 0.25f - 3;
            x[i] = 1.5f - i * 0.125f;
        }
        java.lang.foreign.MemorySegment segment = java.lang.foreign.Arena.ofAuto().allocate(64 * 4);
        java.lang.foreign.MemorySegment.copy(weights, 0, segment,
                java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0, 64);
        Object f32 = type.getField("F32").get(null);
        Object matrix = weightMatrix.getConstructors()[0].newInstance(f32, segment, 0L, 2, 32);
        Object twoThreads = pool.getConstructor(int.class).newInstance(2);
        float[] out = new float[2];
        matrixKernels.getMethod("matvec", weightMatrix, float[].class, float[].class, pool)
                .invoke(null, matrix, java.util.Arrays.copyOf(x, 32), out, twoThreads);
        java.lang.reflect.Method reference = matrixKernels.getMethod("referenceDot", float[].class, int.class, float[].class,
                int.class, int.class);
        assertEquals(Float.floatToRawIntBits((float) reference.invoke(null, weights, 0, x, 0, 32)), Float.floatToRawIntBits(out[0]));
        assertEquals(Float.floatToRawIntBits((float) reference.invoke(null, weights, 32, x, 0, 32)), Float.floatToRawIntBits(out[1]));
        pool.getMethod("close").invoke(twoThreads);
    }

    @Test
    public void healthAnswers200OverRealHttp() throws Exception {
        HttpResponse<String> response = getUntilHealthy("/health");
        assertEquals(response.body(), 200, response.statusCode());
        assertTrue(response.body(), response.body().contains("\"healthy\" : true"));
    }

    @Test
    public void nodeInfoNamesTheKeyAndEveryBundle() throws Exception {
        getUntilHealthy("/health");
        String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri("/api/node")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertNotNull(identity);
        assertTrue(body, body.contains("\"nodeId\" : \"" + identity.id() + "\""));
        for (Bundle bundle : context.getBundles()) {
            assertTrue(bundle.getSymbolicName() + " listed", body.contains("\"symbolicName\" : \"" + bundle.getSymbolicName() + "\""));
        }
        assertTrue(body, body.matches("(?s).*\"sha256\" : \"[0-9a-f]{64}\".*"));
    }

    @Test
    public void healthIs503NamingAStoppedBundleUntilItIsBack() throws Exception {
        Bundle command = bundle("org.apache.felix.gogo.command");
        command.stop();
        try {
            HttpResponse<String> response = get("/health");
            assertEquals(response.body(), 503, response.statusCode());
            assertTrue(response.body(), response.body().contains("bundle org.apache.felix.gogo.command 1.1.2 is RESOLVED, not ACTIVE"));
        } finally {
            command.start();
        }
        assertEquals(200, getUntilHealthy("/health").statusCode());
    }

    @Test
    public void healthIs503NamingAnUnsatisfiedComponent() throws Exception {
        // Real SCR: a target filter that no service matches leaves the component unsatisfied.
        org.osgi.service.cm.Configuration configuration = configurationAdmin.getConfiguration("org.commonweal.node.NodeCommands", "?");
        configuration.update(new Hashtable<>(Map.of("status.target", "(no.such.property=*)")));
        try {
            HttpResponse<String> response = awaitStatus("/health", 503);
            assertTrue(response.body(), response.body().contains("component org.commonweal.node.NodeCommands (bundle"
                    + " org.commonweal.node) is missing reference 'status' to a org.commonweal.node.NodeStatus service"
                    + " matching (no.such.property=*)"));
        } finally {
            configuration.delete();
        }
        assertEquals(200, getUntilHealthy("/health").statusCode());
    }

    @Test
    public void healthIncludesEveryHealthCheckService() throws Exception {
        ServiceRegistration<HealthCheck> registration = context.registerService(HealthCheck.class, new HealthCheck() {
            @Override
            public String name() {
                return "itest disk";
            }

            @Override
            public Result check() {
                return Result.unhealthy("only 1 MB free; free space in the data directory");
            }
        }, null);
        try {
            HttpResponse<String> response = get("/health");
            assertEquals(response.body(), 503, response.statusCode());
            assertTrue(response.body(), response.body().contains("check 'itest disk': only 1 MB free"));
        } finally {
            registration.unregister();
        }
        assertEquals(200, get("/health").statusCode());
    }

    private Bundle bundle(String symbolicName) {
        return List.of(context.getBundles()).stream().filter(b -> symbolicName.equals(b.getSymbolicName())).findFirst()
                .orElseThrow();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** SCR reacts to configuration asynchronously: poll until the status shows (at most 20 s). */
    private HttpResponse<String> awaitStatus(String path, int status) throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        HttpResponse<String> response = get(path);
        while (response.statusCode() != status && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
            response = get(path);
        }
        return response;
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + context.getProperty("org.osgi.service.http.port") + path);
    }

    /** Polls until 200 or 20 s: the whiteboard registers the servlets moments after the bundles start. */
    private HttpResponse<String> getUntilHealthy(String path) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.currentTimeMillis() + 20_000;
        HttpResponse<String> response = null;
        while (System.currentTimeMillis() < deadline) {
            try {
                response = client.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return response;
                }
            } catch (java.io.IOException notYetListening) {
                // Jetty is (re)starting with its configuration
            }
            Thread.sleep(100);
        }
        return response;
    }
}
