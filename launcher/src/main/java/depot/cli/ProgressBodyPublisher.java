package depot.cli;

import java.io.FileNotFoundException;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * Wraps a request body publisher and counts the bytes HttpClient pulls from it, so an upload can drive a
 * progress bar. The count restarts whenever HttpClient (re)subscribes, e.g. when it retries a request.
 * If the server answers before asking for the body (Expect: 100-continue), nothing is ever pulled.
 */
public final class ProgressBodyPublisher implements BodyPublisher {
  private final BodyPublisher delegate;
  private final LongConsumer onProgress;
  private final AtomicLong sent = new AtomicLong();

  public ProgressBodyPublisher(BodyPublisher delegate, LongConsumer onProgress) {
    this.delegate = delegate;
    this.onProgress = onProgress;
  }

  /** Streams the file from disk in chunks; the file is never loaded whole. */
  public static ProgressBodyPublisher ofFile(Path file, LongConsumer onProgress) throws FileNotFoundException {
    return new ProgressBodyPublisher(HttpRequest.BodyPublishers.ofFile(file), onProgress);
  }

  /** Bytes handed to HttpClient by the latest subscription. */
  public long bytesSent() {
    return sent.get();
  }

  @Override
  public long contentLength() {
    return delegate.contentLength();
  }

  @Override
  public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
    sent.set(0);
    delegate.subscribe(new Counting(subscriber));
  }

  private final class Counting implements Flow.Subscriber<ByteBuffer> {
    private final Flow.Subscriber<? super ByteBuffer> downstream;

    Counting(Flow.Subscriber<? super ByteBuffer> downstream) {
      this.downstream = downstream;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
      downstream.onSubscribe(subscription);
    }

    @Override
    public void onNext(ByteBuffer item) {
      int n = item.remaining(); // read before handing over: the consumer moves the position
      downstream.onNext(item);
      onProgress.accept(sent.addAndGet(n));
    }

    @Override
    public void onError(Throwable throwable) {
      downstream.onError(throwable);
    }

    @Override
    public void onComplete() {
      downstream.onComplete();
    }
  }
}
