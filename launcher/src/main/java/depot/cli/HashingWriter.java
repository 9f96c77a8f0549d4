package depot.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse.BodySubscriber;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.security.MessageDigest;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.function.LongConsumer;

/**
 * Where a download goes: bytes are hashed and written straight from the HTTP client's buffers (no
 * InputStream in between), and the state outlives one response so a transfer that breaks can resume
 * from the same offset with another request.
 */
public final class HashingWriter {
  private final WritableByteChannel out;
  /** Null when the caller checks the bytes otherwise. */
  private final MessageDigest digest;
  private final LongConsumer progress;
  private long bytes;

  public HashingWriter(WritableByteChannel out, LongConsumer progress) {
    this(out, progress, true);
  }

  private HashingWriter(WritableByteChannel out, LongConsumer progress, boolean hash) {
    this.out = out;
    this.progress = progress;
    this.digest = hash ? Sha256.newDigest() : null;
  }

  /** A writer that only writes and counts: its result carries no SHA-256. */
  public static HashingWriter unhashed(WritableByteChannel out) {
    return new HashingWriter(out, n -> { }, false);
  }

  public long bytes() {
    return bytes;
  }

  public Sha256.Copied result() {
    return new Sha256.Copied(bytes, digest == null ? null : Sha256.hex(digest.digest()));
  }

  /** Hashes and writes one buffer. */
  public void absorb(ByteBuffer b) throws IOException {
    if (digest != null) {
      digest.update(b.duplicate());
    }
    int n = b.remaining();
    while (b.hasRemaining()) {
      out.write(b);
    }
    bytes += n;
    progress.accept(bytes);
  }

  /** A body subscriber appending one response's body; completes with the bytes written so far. */
  public BodySubscriber<Long> subscriber() {
    return new BodySubscriber<>() {
      private final CompletableFuture<Long> done = new CompletableFuture<>();
      private Flow.Subscription subscription;

      @Override
      public CompletionStage<Long> getBody() {
        return done;
      }

      @Override
      public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(1);
      }

      @Override
      public void onNext(List<ByteBuffer> items) {
        try {
          for (ByteBuffer b : items) {
            absorb(b);
          }
          subscription.request(1);
        } catch (IOException e) {
          subscription.cancel();
          done.completeExceptionally(new UncheckedIOException(e));
        }
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onComplete() {
        done.complete(bytes);
      }
    };
  }
}
