package depot.node;

import depot.config.DepotConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/** The operator's token: {@code DEPOT_ADMIN_TOKEN}, else generated once and kept (mode 0600) in the data folder. */
public final class AdminToken {
  private AdminToken() {}

  /** Blocking. */
  public static String resolve(DepotConfig config) {
    if (config.adminToken() != null && !config.adminToken().isBlank()) {
      return config.adminToken();
    }
    Path file = Path.of(config.dataDir(), "admin-token");
    try {
      if (Files.exists(file)) {
        return Files.readString(file, StandardCharsets.UTF_8).trim();
      }
      byte[] secret = new byte[24];
      new SecureRandom().nextBytes(secret);
      String token = "adm_" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling("admin-token.tmp");
      Files.deleteIfExists(tmp);
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(tmp, token + "\n", StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      return token;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot keep the admin token in " + file, e);
    }
  }
}
