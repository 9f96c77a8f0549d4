package depot.cli.commands;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RetrieveCommandTest {
  /** Records the length of every write it is handed. */
  private static final class CountingStream extends ByteArrayOutputStream {
    final List<Integer> writes = new ArrayList<>();

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      writes.add(len);
      super.write(b, off, len);
    }
  }

  @Test
  void standardOutputTakesEachSlabInOneWrite() throws Exception {
    byte[] slab = new byte[1 << 20];
    new Random(7).nextBytes(slab);
    CountingStream out = new CountingStream();
    WritableByteChannel channel = RetrieveCommand.wholeWrites(out);

    // A slice of a larger array, as a slab partly filled: only its own bytes go out, in one write.
    ByteBuffer partial = ByteBuffer.wrap(slab, 100, 300_000).slice();
    assertEquals(300_000, channel.write(partial));
    assertEquals(0, partial.remaining());
    assertEquals(List.of(300_000), out.writes);

    ByteBuffer direct = ByteBuffer.allocateDirect(5000).put(slab, 0, 5000).flip();
    assertEquals(5000, channel.write(direct));
    assertEquals(List.of(300_000, 5000), out.writes);

    byte[] expected = new byte[305_000];
    System.arraycopy(slab, 100, expected, 0, 300_000);
    System.arraycopy(slab, 0, expected, 300_000, 5000);
    assertArrayEquals(expected, out.toByteArray());
  }
}
