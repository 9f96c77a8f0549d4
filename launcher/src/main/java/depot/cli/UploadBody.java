package depot.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.LongConsumer;

/**
 * A request body of known length that writes itself onto the upload's socket. A file over plain TCP goes
 * with {@code FileChannel.transferTo} (sendfile: the bytes never enter the JVM); anything else is copied
 * in 1 MiB slabs. Either way the client spends next to no CPU, which on a small machine is CPU the servers
 * need.
 */
public final class UploadBody {
  private static final int SLAB = 1 << 20;
  /** Progress is reported at least this often. */
  private static final long STEP = 8L << 20;

  /** Writes the body onto the socket; {@code out} is its stream (headers already flushed). */
  @FunctionalInterface
  private interface Sender {
    void send(Socket socket, OutputStream out) throws IOException;
  }

  private final long length;
  private final Sender sender;

  private UploadBody(long length, Sender sender) {
    this.length = length;
    this.sender = sender;
  }

  public long length() {
    return length;
  }

  /** Writes all {@link #length()} bytes; {@code out} is the socket's stream (headers already flushed). */
  public void writeTo(Socket socket, OutputStream out) throws IOException {
    sender.send(socket, out);
  }

  /** The file's bytes, reporting the running count to {@code progress}. */
  public static UploadBody ofFile(Path file, LongConsumer progress) throws IOException {
    long length = java.nio.file.Files.size(file);
    return new UploadBody(length, (socket, out) -> {
      try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
        SocketChannel channel = socket.getChannel();
        if (channel == null) {
          copy(java.nio.channels.Channels.newInputStream(in), out, length, progress);
          return;
        }
        long sent = 0;
        while (sent < length) {
          long n = in.transferTo(sent, Math.min(STEP, length - sent), channel);
          if (n <= 0 && in.size() <= sent) {
            throw new IOException(file + " shrank while it was being sent");
          }
          sent += n;
          progress.accept(sent);
        }
      }
    });
  }

  /** {@code length} bytes read from a fresh stream of {@code source}. */
  public static UploadBody ofStream(long length, java.util.function.Supplier<InputStream> source) {
    return new UploadBody(length, (socket, out) -> {
      try (InputStream in = source.get()) {
        copy(in, out, length, n -> { });
      }
    });
  }

  /** An in-memory body. */
  public static UploadBody ofBytes(byte[] bytes) {
    return ofStream(bytes.length, () -> new java.io.ByteArrayInputStream(bytes));
  }

  private static void copy(InputStream in, OutputStream out, long length, LongConsumer progress) throws IOException {
    byte[] slab = new byte[(int) Math.min(SLAB, Math.max(1, length))];
    long sent = 0;
    long reported = 0;
    while (sent < length) {
      int n = in.read(slab, 0, (int) Math.min(slab.length, length - sent));
      if (n < 0) {
        throw new IOException("the body ended after " + sent + " of " + length + " bytes");
      }
      out.write(slab, 0, n);
      sent += n;
      if (sent - reported >= STEP || sent == length) {
        reported = sent;
        progress.accept(sent);
      }
    }
    out.flush();
  }
}
