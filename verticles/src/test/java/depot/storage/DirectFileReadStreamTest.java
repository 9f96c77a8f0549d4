package depot.storage;

import io.netty.util.IllegalReferenceCountException;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.EOFException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DirectFileReadStreamTest {
  @TempDir
  Path dir;
  private Vertx vertx;
  private Context context;
  private Path file;
  private byte[] content;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    content = new byte[1024 * 1024 + 123];
    new Random(7).nextBytes(content);
    file = Files.write(dir.resolve("replica"), content);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Runs {@code body} on the test's context (the stream is confined to one) and waits for what it completes. */
  private <T> T onContext(Consumer<CompletableFuture<T>> body) throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    context.runOnContext(v -> {
      try {
        body.accept(result);
      } catch (Throwable t) {
        result.completeExceptionally(t);
      }
    });
    return result.get(30, TimeUnit.SECONDS);
  }

  private static byte[] bytes(Buffer b) {
    return b.getBytes();
  }

  @Test
  void streamsTheRangeInOrderFromDirectMemory() throws Exception {
    long from = 1000;
    int length = 700_001;
    List<Boolean> direct = new ArrayList<>();
    byte[] received = onContext(done -> DirectFileReadStream.open(vertx, file, from, length, 64 * 1024)
        .onFailure(done::completeExceptionally)
        .onSuccess(stream -> {
          Buffer all = Buffer.buffer();
          stream.exceptionHandler(done::completeExceptionally);
          stream.endHandler(v -> stream.close().onComplete(c -> done.complete(bytes(all))));
          stream.handler(b -> {
            direct.add(((BufferInternal) b).getByteBuf().isDirect());
            all.appendBuffer(b);
            stream.recycle(b);
          });
        }));
    assertArrayEquals(Arrays.copyOfRange(content, (int) from, (int) from + length), received);
    assertEquals(11, direct.size(), "700,001 bytes in reads of 64 KiB");
    assertTrue(direct.stream().allMatch(d -> d), "every buffer off the heap");
  }

  @Test
  void aHandlerThatRecyclesFromInsideIsNotCalledAgainBeforeItReturns() throws Exception {
    // A socket write can complete inside the call that makes it, and with it the recycling of its buffer.
    int[] depth = {0, 0};
    int[] handled = {0};
    onContext(done -> DirectFileReadStream.open(vertx, file, 0, content.length, 4096)
        .onSuccess(s -> {
          s.endHandler(v -> s.close().onComplete(c -> done.complete(null)));
          s.handler(b -> {
            depth[0]++;
            depth[1] = Math.max(depth[1], depth[0]);
            handled[0]++;
            s.recycle(b);
            depth[0]--;
          });
        }).onFailure(done::completeExceptionally));
    assertEquals((content.length + 4095) / 4096, handled[0]);
    assertEquals(1, depth[1], "never called from inside itself");
  }

  @Test
  void readsNoFurtherWhileEveryBufferIsLentAndGoesOnWhenOneComesBack() throws Exception {
    List<Buffer> held = new ArrayList<>();
    DirectFileReadStream stream = onContext(done -> DirectFileReadStream.open(vertx, file, 0, content.length, 4096)
        .onSuccess(s -> {
          s.handler(held::add);
          vertx.setTimer(300, id -> done.complete(s));
        }).onFailure(done::completeExceptionally));
    int first = onContext(done -> done.complete(held.size()));
    assertEquals(DirectFileReadStream.BUFFERS, first);

    int after = onContext(done -> {
      stream.recycle(held.get(0));
      vertx.setTimer(300, id -> done.complete(held.size()));
    });
    assertEquals(DirectFileReadStream.BUFFERS + 1, after);
    assertArrayEquals(Arrays.copyOfRange(content, 3 * 4096, 4 * 4096), bytes(held.get(3)));
    onContext(done -> stream.close().onComplete(v -> {
      held.subList(1, held.size()).forEach(stream::recycle);
      done.complete(null);
    }));
  }

  @Test
  void aPausedStreamHandsOutOnlyWhatIsFetched() throws Exception {
    List<Buffer> got = new ArrayList<>();
    int count = onContext(done -> DirectFileReadStream.open(vertx, file, 0, content.length, 4096)
        .onSuccess(s -> {
          s.pause();
          s.handler(b -> {
            got.add(b);
            s.recycle(b);
          });
          s.fetch(2);
          vertx.setTimer(300, id -> s.close().onComplete(v -> done.complete(got.size())));
        }).onFailure(done::completeExceptionally));
    assertEquals(2, count);
  }

  @Test
  void aFileShorterThanTheRangeIsAnErrorReportedAfterTheCallThatStartedTheRead() throws Exception {
    // The exception handler is set after the handler, whose call starts the read: a read that finished before
    // its outcome was listened to must still not report from inside that call. Repeated, since it is a race.
    for (int attempt = 0; attempt < 100; attempt++) {
      Throwable error = onContext(done -> DirectFileReadStream.open(vertx, file, content.length - 10, 100, 4096)
          .onSuccess(s -> {
            s.handler(b -> done.completeExceptionally(new AssertionError("bytes past the end")));
            s.exceptionHandler(done::complete);
          }).onFailure(done::completeExceptionally));
      assertInstanceOf(EOFException.class, error);
    }
  }

  @Test
  void closingReturnsEveryBufferToThePoolLentOnesWhenRecycled() throws Exception {
    List<Buffer> held = new ArrayList<>();
    onContext(done -> DirectFileReadStream.open(vertx, file, 0, content.length, 4096)
        .onSuccess(s -> {
          s.handler(b -> {
            held.add(b);
            if (held.size() == 1) {
              s.close().onComplete(v -> {
                assertEquals(1, ((BufferInternal) b).getByteBuf().refCnt(), "still lent");
                s.recycle(b);
                done.complete(null);
              });
            }
          });
        }).onFailure(done::completeExceptionally));
    assertEquals(1, held.size(), "nothing handed out after close");
    // Released once recycled: its memory can no longer be reached through it.
    assertThrows(IllegalReferenceCountException.class, () -> ((BufferInternal) held.get(0)).getByteBuf());
    Buffer stranger = Buffer.buffer("x");
    DirectFileReadStream other = onContext(done -> DirectFileReadStream.open(vertx, file, 0, 10, 4096)
        .onComplete(ar -> done.complete(ar.result())));
    assertThrows(IllegalStateException.class, () -> other.recycle(stranger));
    onContext(done -> other.close().onComplete(v -> done.complete(null)));
  }
}
