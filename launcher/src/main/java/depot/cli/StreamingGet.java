package depot.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A GET whose body is read from the socket by one thread while the calling thread hashes and writes it,
 * in 1 MiB slabs from a small fixed pool: network and disk work in parallel and memory stays bounded.
 * The JDK's HttpClient delivers many small buffers and tops out at a few hundred MB/s here; this keeps up
 * with a storage node.
 */
public final class StreamingGet {
  private static final int SLAB = 1 << 20;
  private static final int SLABS = 8;
  /**
   * The most the JDK's socket reads at once. Asking more makes the connection's buffered stream check with
   * {@code available()} (an {@code ioctl}) after every read that fills less than asked: one more system call each.
   */
  private static final int SOCKET_READ = 128 * 1024;

  private StreamingGet() {}

  /** Status and headers of a response; for a failed status, its body. */
  public record Head(int status, String errorBody) {}

  private record Slab(byte[] bytes, int length) {}

  private static final Slab END = new Slab(new byte[0], -1);

  /**
   * Sends the request; for a 2xx answer, feeds the whole body to {@code sink} before returning. Throws
   * IOException when the connection fails, before or during the body (what was absorbed stays absorbed).
   */
  public static Head get(URI uri, Map<String, String> headers, HashingWriter sink) throws IOException, InterruptedException {
    HttpURLConnection conn = (HttpURLConnection) uri.toURL().openConnection();
    conn.setConnectTimeout((int) ApiClient.CONNECT_TIMEOUT.toMillis());
    conn.setReadTimeout(120_000);
    conn.setInstanceFollowRedirects(false);
    headers.forEach(conn::setRequestProperty);
    try {
      int status = conn.getResponseCode();
      if (status / 100 != 2) {
        InputStream err = conn.getErrorStream();
        return new Head(status, err == null ? "" : new String(err.readAllBytes(), StandardCharsets.UTF_8));
      }
      pump(conn.getInputStream(), sink);
      return new Head(status, null);
    } finally {
      conn.disconnect();
    }
  }

  private static void pump(InputStream in, HashingWriter sink) throws IOException, InterruptedException {
    BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(SLABS);
    BlockingQueue<Slab> full = new ArrayBlockingQueue<>(SLABS + 1);
    for (int i = 0; i < SLABS; i++) {
      free.add(new byte[SLAB]);
    }
    IOException[] failure = new IOException[1];
    Thread reader = new Thread(() -> {
      try (in) {
        while (true) {
          byte[] slab = free.take();
          int filled = 0;
          int n = 0;
          while (filled < SLAB && (n = in.read(slab, filled, Math.min(SOCKET_READ, SLAB - filled))) > 0) {
            filled += n;
          }
          if (filled > 0) {
            full.put(new Slab(slab, filled));
          }
          if (n < 0) {
            break;
          }
        }
      } catch (IOException e) {
        failure[0] = e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        full.add(END);
      }
    }, "depot-download-reader");
    reader.setDaemon(true);
    reader.start();
    try {
      while (true) {
        Slab slab = full.poll(130, TimeUnit.SECONDS);
        if (slab == null) {
          throw new IOException("transfer stalled");
        }
        if (slab == END) {
          break;
        }
        sink.absorb(ByteBuffer.wrap(slab.bytes(), 0, slab.length()));
        free.put(slab.bytes());
      }
    } finally {
      reader.interrupt();
    }
    reader.join(5_000);
    if (failure[0] != null) {
      throw failure[0];
    }
  }
}
