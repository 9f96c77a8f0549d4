package depot.cli.commands;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import depot.cli.Sha256;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class BenchContentTest {

  @Test
  void sameSeedSameBytesOtherwiseDifferent() {
    BenchContent content = new BenchContent(1234);
    byte[] a = content.bytes(0, 0, 4096);
    assertArrayEquals(a, new BenchContent(1234).bytes(0, 0, 4096), "reproducible from the seed");
    assertFalse(Arrays.equals(a, content.bytes(0, 1, 4096)), "another file");
    assertFalse(Arrays.equals(a, content.bytes(1, 0, 4096)), "another client");
    assertFalse(Arrays.equals(a, new BenchContent(1235).bytes(0, 0, 4096)), "another run");
  }

  @Test
  void streamMatchesBytesForOddSizes() throws Exception {
    BenchContent content = new BenchContent(99);
    for (int size : new int[] {0, 1, 7, 8, 9, 65_535, 65_536, 65_537, 200_003}) {
      try (InputStream in = content.stream(3, 4, size)) {
        assertArrayEquals(content.bytes(3, 4, size), in.readAllBytes(), "size " + size);
      }
    }
  }

  @Test
  void largeContentIsStreamedToTheExactLength() throws Exception {
    long size = (64L << 20) + 5; // larger than anything the bench holds in memory
    try (InputStream in = new BenchContent(5).stream(0, 0, size)) {
      Sha256.Copied copied = Sha256.copy(in, OutputStream.nullOutputStream(), n -> { });
      assertEquals(size, copied.bytes());
    }
  }
}
