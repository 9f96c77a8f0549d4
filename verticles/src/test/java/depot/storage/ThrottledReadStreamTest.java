package depot.storage;

import io.github.bucket4j.Bucket;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.streams.ReadStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ThrottledReadStreamTest {
  private static final int MiB = 1024 * 1024;
  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** Emits {@code count} buffers of {@code size} bytes, only as many as asked for; records what was asked. */
  private static final class Source implements ReadStream<Buffer> {
    private final Vertx vertx;
    private final int size;
    private int left;
    private long demand = Long.MAX_VALUE;
    private Handler<Buffer> handler;
    private Handler<Void> endHandler;
    private boolean scheduled;
    int maxOutstanding;

    Source(Vertx vertx, int count, int size) {
      this.vertx = vertx;
      this.left = count;
      this.size = size;
    }

    @Override
    public Source exceptionHandler(Handler<Throwable> h) {
      return this;
    }

    @Override
    public Source handler(Handler<Buffer> h) {
      handler = h;
      schedule();
      return this;
    }

    @Override
    public Source pause() {
      demand = 0;
      return this;
    }

    @Override
    public Source resume() {
      demand = Long.MAX_VALUE;
      schedule();
      return this;
    }

    @Override
    public Source fetch(long amount) {
      demand = demand == Long.MAX_VALUE || amount == Long.MAX_VALUE ? Long.MAX_VALUE : demand + amount;
      if (demand != Long.MAX_VALUE) {
        maxOutstanding = (int) Math.max(maxOutstanding, demand);
      } else {
        maxOutstanding = Integer.MAX_VALUE;
      }
      schedule();
      return this;
    }

    @Override
    public Source endHandler(Handler<Void> h) {
      endHandler = h;
      return this;
    }

    private void schedule() {
      if (!scheduled && handler != null) {
        scheduled = true;
        vertx.runOnContext(v -> {
          scheduled = false;
          emit();
        });
      }
    }

    private void emit() {
      while (demand > 0 && handler != null) {
        if (left == 0) {
          handler = null;
          endHandler.handle(null);
          return;
        }
        left--;
        if (demand != Long.MAX_VALUE) {
          demand--;
        }
        handler.handle(Buffer.buffer(new byte[size]));
      }
    }
  }

  /** Reads the stream to its end on the event loop; completes with the bytes read and the milliseconds taken. */
  private long[] drain(ReadStream<Buffer> stream) throws Exception {
    CompletableFuture<long[]> result = new CompletableFuture<>();
    vertx.runOnContext(v -> {
      long started = System.nanoTime();
      long[] bytes = {0};
      stream.exceptionHandler(result::completeExceptionally);
      stream.endHandler(e -> result.complete(new long[] {bytes[0], (System.nanoTime() - started) / 1_000_000}));
      stream.handler(b -> bytes[0] += b.length());
    });
    return result.get(30, TimeUnit.SECONDS);
  }

  @Test
  void holdsTheRateAndAsksForOneBufferAtATime() throws Exception {
    // 12 MiB at 4 MiB/s with a 2 MiB burst: about 2.5 s; unthrottled it takes milliseconds.
    Source source = new Source(vertx, 48, 256 * 1024);
    long[] got = drain(new ThrottledReadStream(vertx, source, ThrottledReadStream.bucket(4L * MiB)));
    assertEquals(12L * MiB, got[0]);
    assertTrue(got[1] >= 2000, "12 MiB at 4 MiB/s took only " + got[1] + " ms");
    assertTrue(got[1] < 6000, "took " + got[1] + " ms");
    assertEquals(1, source.maxOutstanding, "never more than one buffer asked of the upstream");
  }

  @Test
  void streamsSharingABucketShareItsRate() throws Exception {
    Bucket bucket = ThrottledReadStream.bucket(4L * MiB);
    CompletableFuture<long[]> first = CompletableFuture.supplyAsync(() -> {
      try {
        return drain(new ThrottledReadStream(vertx, new Source(vertx, 24, 256 * 1024), bucket));
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    long[] second = drain(new ThrottledReadStream(vertx, new Source(vertx, 24, 256 * 1024), bucket));
    long[] firstGot = first.get(30, TimeUnit.SECONDS);
    // 12 MiB together at 4 MiB/s, 2 MiB of it as the burst: the later of the two ends after about 2.5 s.
    assertTrue(Math.max(firstGot[1], second[1]) >= 2000, firstGot[1] + " ms and " + second[1] + " ms");
  }

  @Test
  void aPausedReaderGetsNothingUntilItResumes() throws Exception {
    Source source = new Source(vertx, 8, 1024);
    ThrottledReadStream stream = new ThrottledReadStream(vertx, source, ThrottledReadStream.bucket(64L * MiB));
    CompletableFuture<Integer> seen = new CompletableFuture<>();
    int[] count = {0};
    vertx.runOnContext(v -> {
      stream.endHandler(e -> seen.complete(count[0]));
      stream.handler(b -> {
        count[0]++;
        if (count[0] == 3) {
          stream.pause();
          vertx.setTimer(300, t -> {
            // Paused for 300 ms: no more buffers came meanwhile.
            if (count[0] != 3) {
              seen.completeExceptionally(new AssertionError("got " + count[0] + " buffers while paused"));
            }
            stream.fetch(2);
            vertx.setTimer(300, t2 -> {
              if (count[0] != 5) {
                seen.completeExceptionally(new AssertionError("fetch(2) gave " + (count[0] - 3) + " buffers"));
              }
              stream.resume();
            });
          });
        }
      });
    });
    assertEquals(8, seen.get(10, TimeUnit.SECONDS));
  }

  @Test
  void aFileReadThroughTheThrottleArrivesWhole(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    byte[] data = new byte[3 * MiB + 12345];
    new Random(5).nextBytes(data);
    Path file = dir.resolve("blob");
    Files.write(file, data);
    var async = await(vertx.fileSystem().open(file.toString(), new OpenOptions().setRead(true)));
    async.setReadBufferSize(MiB);
    Buffer all = Buffer.buffer();
    Promise<Void> done = Promise.promise();
    long started = System.nanoTime();
    vertx.runOnContext(v -> {
      ReadStream<Buffer> stream = ThrottledReadStream.wrap(vertx, async, ThrottledReadStream.bucket(2L * MiB));
      stream.endHandler(e -> done.complete());
      stream.exceptionHandler(done::fail);
      stream.handler(all::appendBuffer);
    });
    await(done.future());
    long ms = (System.nanoTime() - started) / 1_000_000;
    assertArrayEquals(data, all.getBytes());
    // 3 MiB beyond the 2 MiB burst at 2 MiB/s: at least about half a second.
    assertTrue(ms >= 400, "took " + ms + " ms");
  }

  @Test
  void noLimitMeansTheStreamItself() {
    Source source = new Source(vertx, 1, 1);
    assertNull(ThrottledReadStream.bucket(0));
    assertTrue(ThrottledReadStream.wrap(vertx, source, null) == source);
  }
}
