package depot.cli;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/**
 * Reads and writes {@code credentials.json} in {@code $DEPOT_CONFIG_DIR}, else {@code ~/.config/depot}.
 * The file holds a bearer token, so it is created 0600 (never world-readable, not even for an instant)
 * and replaced atomically, so a crash mid-write never leaves a truncated file behind.
 */
public final class CredentialsStore {
  public static final String CONFIG_DIR_ENV = "DEPOT_CONFIG_DIR";
  public static final String FILE_NAME = "credentials.json";

  private final Path dir;

  public CredentialsStore(Path dir) {
    this.dir = dir;
  }

  public static CredentialsStore forContext(CliContext ctx) {
    String override = ctx.env(CONFIG_DIR_ENV);
    Path dir = override != null
        ? Path.of(override)
        : Path.of(System.getProperty("user.home"), ".config", "depot");
    return new CredentialsStore(dir);
  }

  public Path file() {
    return dir.resolve(FILE_NAME);
  }

  public Optional<Credentials> load() {
    try {
      String text = Files.readString(file(), StandardCharsets.UTF_8);
      return Optional.of(Credentials.fromJson(new JsonObject(text)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException | DecodeException | ClassCastException e) {
      throw new CliException("cannot read " + file() + ": " + e.getMessage(), e);
    }
  }

  public void save(Credentials credentials) throws IOException {
    boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    Files.createDirectories(dir, posix ? new FileAttribute<?>[] {perms("rwx------")} : new FileAttribute<?>[0]);
    Path tmp = posix
        ? Files.createTempFile(dir, ".credentials", ".tmp", perms("rw-------"))
        : Files.createTempFile(dir, ".credentials", ".tmp");
    try {
      byte[] bytes = (credentials.toJson().encodePrettily() + "\n").getBytes(StandardCharsets.UTF_8);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        ch.write(ByteBuffer.wrap(bytes));
        ch.force(true); // the rename must not become visible before the content
      }
      try {
        Files.move(tmp, file(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file(), StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static FileAttribute<?> perms(String spec) {
    return PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(spec));
  }
}
