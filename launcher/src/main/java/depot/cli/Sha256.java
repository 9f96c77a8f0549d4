package depot.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.function.LongConsumer;

/** SHA-256 helpers: hashing files and streams without holding them in memory. */
public final class Sha256 {
  private static final int BUFFER = 1 << 16;

  private Sha256() {
  }

  /** The result of {@link #copy}: how many bytes went through and their SHA-256 in lower-case hex. */
  public record Copied(long bytes, String sha256) {
  }

  public static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK ships SHA-256", e);
    }
  }

  public static String hex(byte[] digest) {
    return HexFormat.of().formatHex(digest);
  }

  public static String of(byte[] data) {
    return hex(newDigest().digest(data));
  }

  /** Hashes a file, reporting the running byte count to {@code progress}. */
  public static String ofFile(Path file, LongConsumer progress) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return copy(in, OutputStream.nullOutputStream(), progress).sha256();
    }
  }

  /** Copies {@code in} to {@code out}, hashing on the way; reports the running byte count. */
  public static Copied copy(InputStream in, OutputStream out, LongConsumer progress) throws IOException {
    MessageDigest digest = newDigest();
    byte[] buffer = new byte[BUFFER];
    long total = 0;
    int n;
    while ((n = in.read(buffer)) != -1) {
      digest.update(buffer, 0, n);
      out.write(buffer, 0, n);
      total += n;
      progress.accept(total);
    }
    return new Copied(total, hex(digest.digest()));
  }

  /**
   * The hex digest carried by an {@code X-Depot-Sha256} header or an ETag ({@code "<sha256>"}, possibly
   * weak {@code W/"..."}); null when the value is absent or is not a SHA-256.
   */
  public static String fromHeader(String value) {
    if (value == null) {
      return null;
    }
    String v = value.trim();
    if (v.startsWith("W/")) {
      v = v.substring(2);
    }
    if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
      v = v.substring(1, v.length() - 1);
    }
    v = v.toLowerCase(Locale.ROOT);
    return v.matches("[0-9a-f]{64}") ? v : null;
  }
}
