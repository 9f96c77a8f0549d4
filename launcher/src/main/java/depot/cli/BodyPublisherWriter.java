package depot.cli;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.http.HttpRequest.BodyPublisher;
import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Writes everything an HttpClient {@link BodyPublisher} produces to a blocking {@link OutputStream}, one
 * buffer at a time (so memory stays at one chunk whatever the body's size). Lets a request body built for
 * HttpClient, e.g. a {@link ProgressBodyPublisher}, be sent over a plain socket.
 */
public final class BodyPublisherWriter {
  private static final Object DONE = new Object();

  private BodyPublisherWriter() {
  }

  /** @return the number of bytes written */
  public static long write(BodyPublisher publisher, OutputStream out) throws IOException {
    BlockingQueue<Object> items = new LinkedBlockingQueue<>();
    Flow.Subscription[] subscription = new Flow.Subscription[1];
    publisher.subscribe(new Flow.Subscriber<ByteBuffer>() {
      @Override
      public void onSubscribe(Flow.Subscription s) {
        items.add(s);
      }

      @Override
      public void onNext(ByteBuffer item) {
        items.add(item);
      }

      @Override
      public void onError(Throwable throwable) {
        items.add(throwable);
      }

      @Override
      public void onComplete() {
        items.add(DONE);
      }
    });
    long written = 0;
    byte[] copy = new byte[0];
    try {
      while (true) {
        Object item = items.take();
        if (item instanceof Flow.Subscription s) {
          subscription[0] = s;
          s.request(1);
        } else if (item instanceof ByteBuffer buffer) {
          int n = buffer.remaining();
          if (buffer.hasArray()) {
            out.write(buffer.array(), buffer.arrayOffset() + buffer.position(), n);
          } else {
            if (copy.length < n) {
              copy = new byte[n];
            }
            buffer.get(copy, 0, n);
            out.write(copy, 0, n);
          }
          written += n;
          subscription[0].request(1);
        } else if (item instanceof Throwable t) {
          throw t instanceof IOException io ? io : new IOException("cannot read the request body: " + t, t);
        } else {
          return written;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while sending the request body");
    } catch (IOException e) {
      if (subscription[0] != null) {
        subscription[0].cancel(); // stop reading the file: nobody will send it
      }
      throw e;
    }
  }
}
