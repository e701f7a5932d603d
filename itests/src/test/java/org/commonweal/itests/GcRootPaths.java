package org.commonweal.itests;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What keeps a refreshed-away bundle revision's class loader reachable: the shortest path from a GC root to every
 * Felix bundle class loader whose wiring is disposed, read from an HPROF heap dump (the JDK has no heap analyser of
 * its own). Strong references from GC roots first. If there is none: the objects that nothing in the dump refers to
 * yet strongly reach the loader (HPROF leaves out a Class object's own fields, such as a ClassValue's map, and what
 * the JVM holds by itself); then paths through soft references (a JDK cache keeps a softly reachable loader until
 * memory runs short, so a weak reference to it is not cleared either), through objects waiting for their finalize(),
 * and through any reference. Only what a leak probe needs: HPROF 1.0.2 with 8-byte identifiers, as HotSpot writes it.
 * <p>
 * From the command line: {@code java itests/src/test/java/org/commonweal/itests/GcRootPaths.java DUMP.hprof}.
 */
final class GcRootPaths {

    private static final String DISPOSED_LOADER_CLASS = "org/apache/felix/framework/BundleWiringImpl$BundleClassLoader";
    private static final long CHUNK = 1L << 30;

    public static void main(String[] args) throws IOException {
        System.out.println(of(Path.of(args[0])));
    }

    /**
     * Dumps this JVM's live objects to {@code file} (the dump runs a full GC first) and explains what holds every
     * disposed bundle class loader in it; on failure, says why.
     */
    static String dumpAndExplain(Path file) {
        StringBuilder out = new StringBuilder(finalizationState());
        try {
            Files.deleteIfExists(file);
            Files.createDirectories(file.getParent());
            ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
                    .dumpHeap(file.toString(), true);
            out.append("heap dump ").append(file).append(" (").append(Files.size(file) / 1_000_000).append(" MB)\n");
            GcRootPaths paths = new GcRootPaths(file);
            paths.pendingFinalization = ManagementFactory.getMemoryMXBean().getObjectPendingFinalizationCount();
            out.append(paths.explain());
        } catch (IOException | RuntimeException e) {
            out.append("no heap dump or analysis (").append(e).append(")\n");
        }
        return out.toString();
    }

    /** Whether {@code loader} is collected once pending finalizers have run (then a slow or blocked finalize() held it). */
    @SuppressWarnings("removal")
    static String afterFinalization(java.lang.ref.WeakReference<?> loader) throws InterruptedException {
        for (int i = 0; i < 20 && !loader.refersTo(null); i++) {
            System.runFinalization();
            System.gc();
            Thread.sleep(100);
        }
        return loader.refersTo(null) ? "collected after System.runFinalization()"
                : "still reachable after System.runFinalization() and 20 more GCs";
    }

    /**
     * How many objects wait for finalization, and what the threads that run finalizers and cleaners do: a finalize()
     * that blocks keeps every object waiting behind it, and all they refer to, alive. Also every thread's top frames.
     */
    static String finalizationState() {
        StringBuilder out = new StringBuilder("objects pending finalization: ")
                .append(ManagementFactory.getMemoryMXBean().getObjectPendingFinalizationCount()).append('\n');
        for (var thread : Thread.getAllStackTraces().entrySet()) {
            out.append("thread '").append(thread.getKey().getName()).append("' ").append(thread.getKey().getState());
            StackTraceElement[] frames = thread.getValue();
            for (int i = 0; i < Math.min(frames.length, 6); i++) {
                out.append(i == 0 ? ": " : " < ").append(frames[i]);
            }
            out.append('\n');
        }
        return out.toString();
    }

    /** The GC-root paths to every disposed bundle class loader in the HPROF file, as text. */
    static String of(Path hprof) throws IOException {
        return new GcRootPaths(hprof).explain();
    }

    /** The JVM's count of objects waiting for finalization when this analysis ran (-1: another JVM's dump). */
    private long pendingFinalization = -1;
    private final MappedByteBuffer[] maps;
    private final long size;
    // object id -> index (open addressing)
    private long[] keys;
    private int[] values;
    private int mask;
    private int count;
    // per object: record offset, kind (HPROF sub-record tag), id
    private long[] offsets = new long[1 << 20];
    private byte[] kinds = new byte[1 << 20];
    private long[] ids = new long[1 << 20];
    private int objects;
    private final Map<Long, String> strings = new HashMap<>();
    private final Map<Long, String> classNames = new HashMap<>();
    /** class id -> {superclass id, offset of its instance field descriptors, their count}. */
    private final Map<Long, long[]> classes = new HashMap<>();
    private final Map<Integer, Long> threadsBySerial = new HashMap<>();
    private final List<long[]> roots = new ArrayList<>(); // {object id, kind, thread serial}
    private static final String[] ROOT_KINDS = {"unknown", "JNI global", "JNI local", "Java frame", "native stack",
            "system class", "thread block", "monitor in use", "thread"};

    private GcRootPaths(Path hprof) throws IOException {
        try (FileChannel channel = FileChannel.open(hprof)) {
            size = channel.size();
            maps = new MappedByteBuffer[(int) ((size + CHUNK - 1) / CHUNK)];
            for (int i = 0; i < maps.length; i++) {
                maps[i] = channel.map(FileChannel.MapMode.READ_ONLY, i * CHUNK, Math.min(CHUNK, size - i * CHUNK));
            }
        }
        int capacity = Integer.highestOneBit((int) Math.min(1 << 28, Math.max(1 << 16, size / 16))) * 2;
        keys = new long[capacity];
        values = new int[capacity];
        mask = capacity - 1;
        parse();
    }

    private int u1(long p) {
        return maps[(int) (p / CHUNK)].get((int) (p % CHUNK)) & 0xff;
    }

    private int u2(long p) {
        return (u1(p) << 8) | u1(p + 1);
    }

    private int u4(long p) {
        return (u2(p) << 16) | u2(p + 2);
    }

    private long u8(long p) {
        return ((long) u4(p) << 32) | (u4(p + 4) & 0xffffffffL);
    }

    private static int valueSize(int type) {
        return switch (type) {
            case 2 -> 8; // object
            case 4, 8 -> 1; // boolean, byte
            case 5, 9 -> 2; // char, short
            case 6, 10 -> 4; // float, int
            case 7, 11 -> 8; // double, long
            default -> throw new IllegalStateException("HPROF value type " + type);
        };
    }

    private int index(long id) {
        int h = (int) (mix(id) & mask);
        while (keys[h] != 0) {
            if (keys[h] == id) {
                return values[h];
            }
            h = (h + 1) & mask;
        }
        return -1;
    }

    private void put(long id, int value) {
        if (count * 2 > mask) {
            long[] oldKeys = keys;
            int[] oldValues = values;
            keys = new long[oldKeys.length * 2];
            values = new int[oldKeys.length * 2];
            mask = keys.length - 1;
            count = 0;
            for (int i = 0; i < oldKeys.length; i++) {
                if (oldKeys[i] != 0) {
                    put(oldKeys[i], oldValues[i]);
                }
            }
        }
        int h = (int) (mix(id) & mask);
        while (keys[h] != 0 && keys[h] != id) {
            h = (h + 1) & mask;
        }
        if (keys[h] == 0) {
            count++;
        }
        keys[h] = id;
        values[h] = value;
    }

    private static long mix(long x) {
        x ^= x >>> 33;
        x *= 0xff51afd7ed558ccdL;
        return x ^ (x >>> 33);
    }

    private void add(long id, long offset, int kind) {
        if (objects == offsets.length) {
            offsets = Arrays.copyOf(offsets, objects * 2);
            kinds = Arrays.copyOf(kinds, objects * 2);
            ids = Arrays.copyOf(ids, objects * 2);
        }
        offsets[objects] = offset;
        kinds[objects] = (byte) kind;
        ids[objects] = id;
        put(id, objects++);
    }

    private void parse() {
        long p = 0;
        while (u1(p) != 0) {
            p++;
        }
        if (u4(p + 1) != 8) {
            throw new IllegalStateException("HPROF identifiers of " + u4(p + 1) + " bytes; only 8 are read");
        }
        p += 1 + 4 + 8;
        while (p < size) {
            int tag = u1(p);
            long length = u4(p + 5) & 0xffffffffL;
            long body = p + 9;
            if (tag == 0x01) { // UTF8
                byte[] bytes = new byte[(int) length - 8];
                for (int i = 0; i < bytes.length; i++) {
                    bytes[i] = (byte) u1(body + 8 + i);
                }
                strings.put(u8(body), new String(bytes, StandardCharsets.UTF_8));
            } else if (tag == 0x02) { // LOAD CLASS
                classNames.put(u8(body + 4), strings.get(u8(body + 16)));
            } else if (tag == 0x0C || tag == 0x1C) { // HEAP DUMP (SEGMENT)
                parseHeap(body, body + length);
            }
            p = body + length;
        }
    }

    private void parseHeap(long p, long end) {
        while (p < end) {
            int tag = u1(p++);
            switch (tag) {
                case 0xFF -> p = root(p, 0, -1, 8);
                case 0x01 -> p = root(p, 1, -1, 16);
                case 0x02 -> p = root(p, 2, u4(p + 8), 16);
                case 0x03 -> p = root(p, 3, u4(p + 8), 16);
                case 0x04 -> p = root(p, 4, u4(p + 8), 12);
                case 0x05 -> p = root(p, 5, -1, 8);
                case 0x06 -> p = root(p, 6, u4(p + 8), 12);
                case 0x07 -> p = root(p, 7, -1, 8);
                case 0x08 -> {
                    threadsBySerial.put(u4(p + 8), u8(p));
                    p = root(p, 8, u4(p + 8), 16);
                }
                case 0x20 -> { // CLASS DUMP
                    long start = p;
                    long id = u8(p);
                    long superclass = u8(p + 12);
                    p += 8 + 4 + 8 * 6 + 4;
                    int constants = u2(p);
                    p += 2;
                    for (int i = 0; i < constants; i++) {
                        p += 3 + valueSize(u1(p + 2));
                    }
                    int statics = u2(p);
                    p += 2;
                    for (int i = 0; i < statics; i++) {
                        p += 9 + valueSize(u1(p + 8));
                    }
                    int fields = u2(p);
                    classes.put(id, new long[] {superclass, p + 2, fields});
                    p += 2 + 9L * fields;
                    add(id, start, tag);
                }
                case 0x21 -> { // INSTANCE DUMP
                    add(u8(p), p, tag);
                    p += 24 + (u4(p + 20) & 0xffffffffL);
                }
                case 0x22 -> { // OBJECT ARRAY DUMP
                    add(u8(p), p, tag);
                    p += 24 + 8L * u4(p + 12);
                }
                case 0x23 -> { // PRIMITIVE ARRAY DUMP
                    add(u8(p), p, tag);
                    p += 17 + (long) u4(p + 12) * valueSize(u1(p + 16));
                }
                default -> throw new IllegalStateException("HPROF heap sub-record " + Integer.toHexString(tag) + " at " + p);
            }
        }
    }

    private long root(long p, int kind, int threadSerial, int length) {
        roots.add(new long[] {u8(p), kind, threadSerial});
        return p + length;
    }

    private long classOf(int object) {
        return u8(offsets[object] + 12);
    }

    private String className(long classId) {
        String name = classNames.get(classId);
        return name == null ? "class@" + Long.toHexString(classId) : name.replace('/', '.');
    }

    private boolean isA(long classId, String name) {
        for (long c = classId; c != 0; ) {
            if (name.equals(classNames.get(c))) {
                return true;
            }
            long[] info = classes.get(c);
            if (info == null) {
                return false;
            }
            c = info[0];
        }
        return false;
    }

    /** The offset of an instance field's value, searching the class and its superclasses; -1 if none. */
    private long fieldOffset(int object, String name) {
        long data = offsets[object] + 24;
        for (long c = classOf(object); c != 0; ) {
            long[] info = classes.get(c);
            if (info == null) {
                break;
            }
            long descriptor = info[1];
            for (int f = 0; f < info[2]; f++, descriptor += 9) {
                if (name.equals(strings.get(u8(descriptor)))) {
                    return data;
                }
                data += valueSize(u1(descriptor + 8));
            }
            c = info[0];
        }
        return -1;
    }

    private int objectField(int object, String name) {
        long offset = object < 0 ? -1 : fieldOffset(object, name);
        return offset < 0 ? -1 : index(u8(offset));
    }

    private String string(int object) {
        int value = objectField(object, "value");
        if (value < 0 || kinds[value] != 0x23) {
            return "?";
        }
        long p = offsets[value];
        int length = u4(p + 12);
        int coder = (int) fieldOffset(object, "coder");
        StringBuilder text = new StringBuilder();
        boolean utf16 = coder >= 0 && u1(coder) == 1;
        for (int k = 0; k < Math.min(length, 300); k += utf16 ? 2 : 1) {
            text.append(utf16 ? (char) ((u1(p + 17 + k + 1) << 8) | u1(p + 17 + k)) : (char) u1(p + 17 + k));
        }
        return text.toString();
    }

    private String describe(int object) {
        long p = offsets[object];
        return Long.toHexString(ids[object]) + " " + switch (kinds[object]) {
            case 0x20 -> "class " + className(ids[object]);
            case 0x21 -> className(classOf(object)) + detail(object);
            case 0x22 -> className(u8(p + 16)).replace("[L", "").replace(";", "") + "[" + u4(p + 12) + "]";
            default -> "primitive array";
        };
    }

    /** A thread's name, a string's text, a bundle class loader's bundle. */
    private String detail(int object) {
        long type = classOf(object);
        if (isA(type, "java/lang/Thread")) {
            return " '" + string(objectField(object, "name")) + "'";
        }
        if (isA(type, "java/lang/String")) {
            return " \"" + string(object) + "\"";
        }
        if (isA(type, DISPOSED_LOADER_CLASS)) {
            int revision = objectField(objectField(object, "m_wiring"), "m_revision");
            return " of revision " + string(objectField(revision, "m_id")) + " ("
                    + string(objectField(revision, "m_symbolicName")) + ")";
        }
        return "";
    }

    private interface Edge {
        void to(long id, String label);
    }

    /**
     * An object's references; a Reference's referent only if {@code strength} is at least 1 and it is a
     * SoftReference, at least 2 and it is a finalizer's (the object waits for its finalize() to run), or 3 (any
     * Reference: weak, phantom).
     */
    private void references(int object, int strength, Edge edge) {
        long p = offsets[object];
        switch (kinds[object]) {
            case 0x20 -> {
                edge.to(u8(p + 12), "<superclass>");
                edge.to(u8(p + 20), "<class loader>");
                edge.to(u8(p + 28), "<signers>");
                edge.to(u8(p + 36), "<protection domain>");
                p += 8 + 4 + 8 * 6 + 4;
                int constants = u2(p);
                p += 2;
                for (int i = 0; i < constants; i++) {
                    int type = u1(p + 2);
                    if (type == 2) {
                        edge.to(u8(p + 3), "<constant>");
                    }
                    p += 3 + valueSize(type);
                }
                int statics = u2(p);
                p += 2;
                for (int i = 0; i < statics; i++) {
                    int type = u1(p + 8);
                    if (type == 2) {
                        edge.to(u8(p + 9), "static " + strings.get(u8(p)));
                    }
                    p += 9 + valueSize(type);
                }
            }
            case 0x21 -> {
                long type = classOf(object);
                edge.to(type, "<class>");
                boolean reference = isA(type, "java/lang/ref/Reference");
                boolean followReferent = reference && (strength == 3
                        || strength >= 1 && isA(type, "java/lang/ref/SoftReference")
                        || strength >= 2 && isA(type, "java/lang/ref/FinalReference"));
                long data = p + 24;
                for (long c = type; c != 0; ) {
                    long[] info = classes.get(c);
                    if (info == null) {
                        break;
                    }
                    long descriptor = info[1];
                    for (int f = 0; f < info[2]; f++, descriptor += 9) {
                        int fieldType = u1(descriptor + 8);
                        if (fieldType == 2) {
                            String name = strings.get(u8(descriptor));
                            boolean referent = reference && "referent".equals(name);
                            if (!referent || followReferent) {
                                edge.to(u8(data), referent ? "referent of a " + className(type) : name);
                            }
                        }
                        data += valueSize(fieldType);
                    }
                    c = info[0];
                }
            }
            case 0x22 -> {
                int length = u4(p + 12);
                for (int k = 0; k < length; k++) {
                    edge.to(u8(p + 24 + 8L * k), "[" + k + "]");
                }
            }
            default -> {
            }
        }
    }

    private String explain() {
        List<Integer> targets = new ArrayList<>();
        for (int i = 0; i < objects; i++) {
            if (kinds[i] == 0x21 && DISPOSED_LOADER_CLASS.equals(classNames.get(classOf(i)))) {
                long disposed = fieldOffset(objectField(i, "m_wiring"), "m_isDisposed");
                if (disposed >= 0 && u1(disposed) != 0) {
                    targets.add(i);
                }
            }
        }
        StringBuilder out = new StringBuilder(objects + " objects, " + roots.size() + " GC roots, " + targets.size()
                + " class loader(s) of disposed bundle revisions\n");
        for (int target : targets) {
            out.append("GC-root path to ").append(describe(target)).append(":\n");
            if (!path(target, 0, null, out)) {
                out.append("  no strong path from a GC root. Objects that nothing in the dump refers to and that strongly"
                        + " reach it (HPROF leaves out what the JVM holds by itself and a Class object's own fields:"
                        + " classValueMap, classData, reflectionData, cachedConstructor, enumConstants, annotationData):\n");
                orphansReaching(target, out);
                out.append("  through soft references:\n");
                if (!path(target, 1, null, out)) {
                    out.append("  none; through objects waiting for their finalize() (pending finalization: "
                            + pendingFinalization + "):\n");
                    if (!path(target, 2, null, out)) {
                        out.append("  none; through any reference (weak, phantom):\n");
                        if (!path(target, 3, null, out)) {
                            out.append("  none\n");
                        }
                    }
                }
            }
        }
        return out.toString();
    }

    /**
     * The objects that nothing in the dump refers to (not even weakly), that are no GC root and no class (the JVM
     * holds an array or hidden class through its loader), and that strongly reach {@code target}: counted by type,
     * with one path for each type. The types say which hidden field holds them: a ClassValue's map, a constructor
     * or the enum constants cached by a class (of the old revision itself, if the path says so) and so on.
     */
    private void orphansReaching(int target, StringBuilder out) {
        boolean[] referred = new boolean[objects];
        int[] start = new int[objects + 1];
        for (long[] root : roots) {
            int i = index(root[0]);
            if (i >= 0) {
                referred[i] = true;
            }
        }
        for (int i = 0; i < objects; i++) {
            references(i, 3, (id, label) -> {
                int to = id == 0 ? -1 : index(id);
                if (to >= 0) {
                    referred[to] = true;
                }
            });
            references(i, 0, (id, label) -> {
                int to = id == 0 ? -1 : index(id);
                if (to >= 0) {
                    start[to + 1]++;
                }
            });
        }
        for (int i = 0; i < objects; i++) {
            start[i + 1] += start[i];
        }
        int[] from = new int[start[objects]];
        int[] fill = Arrays.copyOf(start, objects);
        for (int i = 0; i < objects; i++) {
            int source = i;
            references(i, 0, (id, label) -> {
                int to = id == 0 ? -1 : index(id);
                if (to >= 0) {
                    from[fill[to]++] = source;
                }
            });
        }
        boolean[] seen = new boolean[objects];
        int[] queue = new int[objects];
        int head = 0;
        int tail = 0;
        queue[tail++] = target;
        seen[target] = true;
        Map<String, List<Integer>> byType = new java.util.TreeMap<>();
        while (head < tail) {
            int current = queue[head++];
            if (!referred[current] && kinds[current] != 0x20) {
                String type = describe(current).replaceFirst("^[0-9a-f]+ ", "").replaceAll("\\[\\d+\\]$", "[]");
                byType.computeIfAbsent(type, k -> new ArrayList<>()).add(current);
            }
            for (int k = start[current]; k < start[current + 1]; k++) {
                if (!seen[from[k]]) {
                    seen[from[k]] = true;
                    queue[tail++] = from[k];
                }
            }
        }
        if (byType.isEmpty()) {
            out.append("  none\n");
        }
        int shown = 0;
        for (var type : byType.entrySet()) {
            out.append("  ").append(type.getValue().size()).append(" x ").append(type.getKey()).append('\n');
            if (shown++ < 12) {
                path(target, 0, List.of(type.getValue().get(0)), out);
            }
        }
    }

    /** The shortest path to {@code target} from a GC root, or from one of {@code from} if not null. */
    private boolean path(int target, int strength, List<Integer> from, StringBuilder out) {
        int[] parent = new int[objects];
        Arrays.fill(parent, -2);
        String[] labels = new String[objects];
        long[] rootOf = new long[objects];
        int[] queue = new int[objects];
        int head = 0;
        int tail = 0;
        if (from != null) {
            for (int i : from) {
                parent[i] = -1;
                rootOf[i] = -1;
                queue[tail++] = i;
            }
        }
        // system classes last: a thread or a JNI global says more about who holds what
        for (boolean systemClasses : from != null ? new boolean[0] : new boolean[] {false, true}) {
            for (long[] root : roots) {
                int i = index(root[0]);
                if (i >= 0 && parent[i] == -2 && (root[1] == 5) == systemClasses) {
                    parent[i] = -1;
                    rootOf[i] = root[1] << 32 | (root[2] & 0xffffffffL);
                    queue[tail++] = i;
                }
            }
        }
        while (head < tail && parent[target] == -2) {
            int current = queue[head++];
            int[] end = {tail};
            references(current, strength, (id, label) -> {
                int to = id == 0 ? -1 : index(id);
                if (to >= 0 && parent[to] == -2) {
                    parent[to] = current;
                    labels[to] = label;
                    queue[end[0]++] = to;
                }
            });
            tail = end[0];
        }
        if (parent[target] == -2) {
            return false;
        }
        List<String> lines = new ArrayList<>();
        for (int c = target; c >= 0; c = parent[c]) {
            if (parent[c] == -1 && rootOf[c] == -1) {
                lines.add(0, "    nothing in the dump refers to " + describe(c));
            } else if (parent[c] == -1) {
                int kind = (int) (rootOf[c] >>> 32);
                Long thread = threadsBySerial.get((int) rootOf[c]);
                int threadObject = thread == null ? -1 : index(thread);
                lines.add(0, "  root (" + ROOT_KINDS[kind] + (kind != 8 && threadObject >= 0 ? " of thread"
                        + detail(threadObject) : "") + ") " + describe(c));
            } else {
                lines.add(0, "      ." + labels[c] + " -> " + describe(c));
            }
        }
        lines.forEach(line -> out.append(line).append('\n'));
        return true;
    }
}
