package depot.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProgressBodyPublisherTest {

  @TempDir
  Path tmp;

  /** Drains a publisher the way HttpClient does, one buffer at a time. */
  private static byte[] drain(HttpRequest.BodyPublisher publisher) throws Exception {
    ByteArrayOutputStream collected = new ByteArrayOutputStream();
    CompletableFuture<Void> done = new CompletableFuture<>();
    publisher.subscribe(new Flow.Subscriber<>() {
      private Flow.Subscription subscription;

      @Override
      public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(1);
      }

      @Override
      public void onNext(ByteBuffer item) {
        byte[] chunk = new byte[item.remaining()];
        item.get(chunk);
        collected.writeBytes(chunk);
        subscription.request(1);
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onComplete() {
        done.complete(null);
      }
    });
    done.get(10, TimeUnit.SECONDS);
    return collected.toByteArray();
  }

  @Test
  void passesBytesThroughAndCountsThem() throws Exception {
    byte[] content = new byte[3 * 1024 * 1024 + 123];
    new Random(42).nextBytes(content);
    Path file = Files.write(tmp.resolve("f.bin"), content);
    List<Long> progress = new CopyOnWriteArrayList<>();

    ProgressBodyPublisher publisher = ProgressBodyPublisher.ofFile(file, progress::add);

    assertEquals(content.length, publisher.contentLength());
    assertArrayEquals(content, drain(publisher));
    assertEquals(content.length, publisher.bytesSent());
    assertEquals(content.length, progress.get(progress.size() - 1));
    assertTrue(progress.size() > 1, "several chunks, several updates");
    for (int i = 1; i < progress.size(); i++) {
      assertTrue(progress.get(i) > progress.get(i - 1), "progress only moves forward");
    }
  }

  @Test
  void countRestartsWhenResubscribed() throws Exception {
    byte[] content = "hello, depot".getBytes();
    List<Long> progress = new CopyOnWriteArrayList<>();
    ProgressBodyPublisher publisher =
        new ProgressBodyPublisher(HttpRequest.BodyPublishers.ofByteArray(content), progress::add);

    drain(publisher);
    drain(publisher); // HttpClient resubscribes when it retries a request
    assertEquals(content.length, publisher.bytesSent());
    assertEquals(List.of((long) content.length, (long) content.length), progress);
  }

  @Test
  void emptyBodyReportsNothing() throws Exception {
    List<Long> progress = new CopyOnWriteArrayList<>();
    ProgressBodyPublisher publisher = ProgressBodyPublisher.ofFile(Files.write(tmp.resolve("empty"), new byte[0]), progress::add);
    assertEquals(0, publisher.contentLength());
    assertEquals(0, drain(publisher).length);
    assertEquals(0, publisher.bytesSent());
  }
}
