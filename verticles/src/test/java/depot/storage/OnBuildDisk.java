package depot.storage;

import org.junit.jupiter.api.extension.AnnotatedElementContext;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDirFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code @TempDir(factory = OnBuildDisk.class)}: a temporary data folder under {@code target/}, on the build
 * machine's disk, where replicas are written as on a storage node's; /tmp may be tmpfs, which refuses O_DIRECT.
 */
final class OnBuildDisk implements TempDirFactory {
  @Override
  public Path createTempDirectory(AnnotatedElementContext element, ExtensionContext extension) throws IOException {
    return Files.createTempDirectory(Files.createDirectories(Path.of("target", "disk-tests")), "store");
  }
}
