package org.commonweal.repo;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * A {@code .tar.gz} of a folder that depends on nothing but the files' bytes: entries sorted by path, every
 * timestamp fixed, owner 0/0, mode 0755 for executables and 0644 otherwise (POSIX ustar; gzip without a name or
 * time). The same folder always gives the same archive.
 */
public final class TarArchive {

    private TarArchive() {
    }

    /** Writes {@code directory} as {@code archive}; entries are named {@code prefix/<relative path>}. */
    public static void write(Path directory, String prefix, long mtimeSeconds, Path archive) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(directory)) {
            files = walk.filter(Files::isRegularFile).sorted((a, b) -> directory.relativize(a).toString()
                    .compareTo(directory.relativize(b).toString())).toList();
        }
        Files.createDirectories(archive.toAbsolutePath().getParent());
        // Fastest deflate: the jars inside are compressed already, so a higher level costs time and saves ~nothing.
        try (OutputStream file = Files.newOutputStream(archive); GZIPOutputStream out = new GZIPOutputStream(file, 1 << 16) {
            {
                def.setLevel(Deflater.BEST_SPEED);
            }
        }) {
            for (Path path : files) {
                String name = prefix + "/" + directory.relativize(path).toString().replace('\\', '/');
                byte[] content = Files.readAllBytes(path);
                out.write(header(name, content.length, Files.isExecutable(path) ? 0755 : 0644, mtimeSeconds));
                out.write(content);
                out.write(new byte[(512 - content.length % 512) % 512]);
            }
            out.write(new byte[1024]);
        }
    }

    private static byte[] header(String name, long size, int mode, long mtime) throws IOException {
        byte[] header = new byte[512];
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        String prefix = "";
        if (nameBytes.length > 100) {
            int split = name.lastIndexOf('/', 154);
            while (split > 0 && name.substring(split + 1).getBytes(StandardCharsets.UTF_8).length > 100) {
                split = name.lastIndexOf('/', split - 1);
            }
            if (split <= 0) {
                throw new IOException("path too long for a tar archive: " + name);
            }
            prefix = name.substring(0, split);
            nameBytes = name.substring(split + 1).getBytes(StandardCharsets.UTF_8);
        }
        System.arraycopy(nameBytes, 0, header, 0, nameBytes.length);
        octal(header, 100, 8, mode);
        octal(header, 108, 8, 0);
        octal(header, 116, 8, 0);
        octal(header, 124, 12, size);
        octal(header, 136, 12, mtime);
        header[156] = '0';
        byte[] magic = "ustar\u000000".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(magic, 0, header, 257, magic.length);
        byte[] prefixBytes = prefix.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(prefixBytes, 0, header, 345, prefixBytes.length);
        for (int i = 148; i < 156; i++) {
            header[i] = ' ';
        }
        long sum = 0;
        for (byte b : header) {
            sum += b & 0xff;
        }
        octal(header, 148, 7, sum);
        return header;
    }

    private static void octal(byte[] header, int offset, int length, long value) {
        String text = Long.toOctalString(value);
        String padded = "0".repeat(Math.max(0, length - 1 - text.length())) + text;
        byte[] bytes = padded.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(bytes, 0, header, offset, bytes.length);
    }
}
