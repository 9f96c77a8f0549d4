package depot.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CredentialsStoreTest {
  private static final Credentials ALICE = new Credentials("http://localhost:8080", "c-1", "secret-1", "alice");

  @TempDir
  Path tmp;

  @Test
  void roundTrips() throws IOException {
    CredentialsStore store = new CredentialsStore(tmp.resolve("depot"));
    store.save(ALICE);
    assertEquals(Optional.of(ALICE), store.load());
  }

  @Test
  void missingFileMeansNotLoggedIn() {
    assertEquals(Optional.empty(), new CredentialsStore(tmp).load());
  }

  @Test
  void fileIsPrivate() throws IOException {
    CredentialsStore store = new CredentialsStore(tmp.resolve("a/b/depot"));
    store.save(ALICE);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(store.file())));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("a/b/depot"))));
  }

  @Test
  void replacesAtomicallyAndLeavesNoTemporaryFile() throws IOException {
    CredentialsStore store = new CredentialsStore(tmp);
    store.save(ALICE);
    Object before = Files.readAttributes(store.file(), BasicFileAttributes.class).fileKey();
    Credentials bob = new Credentials("http://other:9000", "c-2", "secret-2", "bob");
    store.save(bob);

    assertEquals(Optional.of(bob), store.load());
    // A new inode: the file was renamed over, not rewritten in place (readers never see half a file).
    assertNotEquals(before, Files.readAttributes(store.file(), BasicFileAttributes.class).fileKey());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(store.file())));
    try (Stream<Path> files = Files.list(tmp)) {
      assertEquals(List.of(store.file()), files.toList());
    }
  }

  @Test
  void writesTheDocumentedJson() throws IOException {
    CredentialsStore store = new CredentialsStore(tmp);
    store.save(ALICE);
    io.vertx.core.json.JsonObject json = new io.vertx.core.json.JsonObject(Files.readString(store.file()));
    assertEquals("http://localhost:8080", json.getString("server"));
    assertEquals("c-1", json.getString("clientId"));
    assertEquals("secret-1", json.getString("token"));
    assertEquals("alice", json.getString("nickname"));
  }

  @Test
  void corruptFileIsReportedWithItsPath() throws IOException {
    CredentialsStore store = new CredentialsStore(tmp);
    Files.writeString(store.file(), "{not json");
    CliException e = assertThrows(CliException.class, store::load);
    assertTrue(e.getMessage().startsWith("cannot read " + store.file()), e.getMessage());
  }

  @Test
  void locationFollowsDepotConfigDirThenUserHome() {
    PrintStream devNull = new PrintStream(OutputStream.nullOutputStream());
    CliContext withEnv = new CliContext(devNull, devNull, Map.of("DEPOT_CONFIG_DIR", tmp.toString()), false);
    assertEquals(tmp.resolve("credentials.json"), CredentialsStore.forContext(withEnv).file());

    String home = System.getProperty("user.home");
    try {
      System.setProperty("user.home", tmp.toString());
      CliContext plain = new CliContext(devNull, devNull, Map.of(), false);
      assertEquals(tmp.resolve(".config/depot/credentials.json"), CredentialsStore.forContext(plain).file());
    } finally {
      System.setProperty("user.home", home);
    }
  }
}
