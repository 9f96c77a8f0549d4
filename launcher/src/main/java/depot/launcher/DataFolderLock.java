package depot.launcher;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Keeps a second {@code dev} off a data folder in use: two processes writing the same catalogs and replicas would
 * corrupt both. An OS file lock, so a process that dies, even by SIGKILL, leaves nothing to clean up.
 */
final class DataFolderLock implements AutoCloseable {
  static final String FILE = ".dev.lock";

  private final FileChannel channel;

  private DataFolderLock(FileChannel channel) {
    this.channel = channel;
  }

  /** Takes the folder (creating it), or returns null when another process holds it. */
  static DataFolderLock take(Path folder) throws IOException {
    Files.createDirectories(folder);
    FileChannel channel = FileChannel.open(folder.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException heldHere) {
      lock = null;
    }
    if (lock == null) {
      channel.close();
      return null;
    }
    return new DataFolderLock(channel);
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
