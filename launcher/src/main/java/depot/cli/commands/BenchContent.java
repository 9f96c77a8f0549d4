package depot.cli.commands;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/**
 * Pseudo-random file contents for the bench: distinct for every (client, file) and every run (so the
 * server's dedup never kicks in), reproducible from the run's seed, and generated far faster than any
 * network can carry them. Large contents are streamed, never allocated whole.
 */
final class BenchContent {
  private static final int CHUNK = 64 * 1024;

  private final long runSeed;

  BenchContent(long runSeed) {
    this.runSeed = runSeed;
  }

  /** The whole content in memory, for sizes small enough to hash up front. */
  byte[] bytes(int client, int file, int size) {
    try (InputStream in = stream(client, file, size)) {
      return in.readNBytes(size);
    } catch (IOException e) {
      throw new IllegalStateException("in-memory stream cannot fail", e);
    }
  }

  /** The same bytes as {@link #bytes}, produced on the fly. */
  InputStream stream(int client, int file, long size) {
    return new Generated(new SplittableRandom(seed(client, file)), size);
  }

  private long seed(int client, int file) {
    // Mixing through SplittableRandom spreads neighbouring (client, file) pairs far apart.
    return new SplittableRandom(runSeed ^ ((long) client << 32) ^ (file & 0xffffffffL)).nextLong();
  }

  private static final class Generated extends InputStream {
    private final SplittableRandom random;
    private final ByteBuffer chunk;
    private long remaining;

    Generated(SplittableRandom random, long size) {
      this.random = random;
      this.remaining = size;
      // No bigger than the content (rounded up to whole longs): a 4 KiB file must not cost 64 KiB of random.
      this.chunk = ByteBuffer.allocate((int) Math.min(CHUNK, (size + Long.BYTES - 1) & -Long.BYTES))
          .order(ByteOrder.LITTLE_ENDIAN);
      chunk.limit(0);
    }

    @Override
    public int read() {
      byte[] one = new byte[1];
      return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (len == 0) {
        return 0;
      }
      if (remaining == 0) {
        return -1;
      }
      if (!chunk.hasRemaining()) {
        refill();
      }
      int n = (int) Math.min(Math.min(len, chunk.remaining()), remaining);
      chunk.get(b, off, n);
      remaining -= n;
      return n;
    }

    @Override
    public int available() {
      return (int) Math.min(remaining, chunk.remaining());
    }

    private void refill() {
      chunk.clear();
      while (chunk.remaining() >= Long.BYTES) {
        chunk.putLong(random.nextLong());
      }
      chunk.flip();
    }
  }
}
