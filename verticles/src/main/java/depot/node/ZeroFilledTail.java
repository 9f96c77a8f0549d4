package depot.node;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Keeps written zeros ahead of an append-only file's end, as PostgreSQL does with its WAL segments. Syncing
 * an append that grows the file also has to make the new size and the newly allocated blocks durable: on a
 * journaled ext4 each such fdatasync is a journal commit, shared by every file of the disk; the dev machine's
 * ext4 runs without a journal, and there it is an extra write of the inode and its allocation metadata.
 * Syncing bytes written over zeros that are already on disk changes no metadata, so it is only the data's own
 * write: on the dev machine's disk a 12 KiB append synced in 136 µs instead of 216 µs and cost 52 µs of CPU
 * instead of 88 (five files synced side by side: 1.5–1.7 times as many syncs a second).
 *
 * <p>Readers of such a file stop at the zeros: its formats never begin a record with a zero byte.
 */
public final class ZeroFilledTail {
  private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 * 1024).asReadOnlyBuffer();

  private ZeroFilledTail() {
  }

  /**
   * Blocking: if {@code end} (the data's end) has passed {@code zeroedTo}, writes zeros from {@code end} for
   * {@code chunk} bytes, leaving the channel's position alone. The caller's next sync makes them durable with
   * the data; from then on the file's size stays put until the next extension.
   *
   * @return how far the file is now written, data or zeros
   */
  public static long extend(FileChannel ch, long end, long zeroedTo, long chunk) throws IOException {
    if (end <= zeroedTo) {
      return zeroedTo;
    }
    long to = end + chunk;
    for (long at = end; at < to; ) {
      ByteBuffer zeros = ZEROS.duplicate();
      zeros.limit((int) Math.min(zeros.capacity(), to - at));
      at += ch.write(zeros, at);
    }
    return to;
  }

  /** Blocking: whether every byte from {@code from} to the file's end is zero (true if there is none). */
  public static boolean onlyZerosFrom(FileChannel ch, long from) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    long size = ch.size();
    for (long at = from; at < size; ) {
      buf.clear();
      int n = ch.read(buf, at);
      if (n <= 0) {
        return true;
      }
      for (int i = 0; i < n; i++) {
        if (buf.get(i) != 0) {
          return false;
        }
      }
      at += n;
    }
    return true;
  }
}
