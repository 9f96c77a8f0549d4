package depot.coordinator;

import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ContentInFlightTest {
  private static final String SHA = "a".repeat(64);

  @Test
  void aDepositWaitsForTheFirstUploadOfTheSameContentByTheSameOwner() {
    ContentInFlight inFlight = new ContentInFlight();
    assertNull(inFlight.pending("ana", SHA));
    inFlight.started("ana", SHA, "upload-1");
    Future<Void> wait = inFlight.pending("ana", SHA);
    assertNotNull(wait);
    assertNull(inFlight.pending("bob", SHA), "dedup never crosses owners");
    assertNull(inFlight.pending("ana", "b".repeat(64)));

    inFlight.started("ana", SHA, "upload-2"); // one that did not wait (it timed out): not the one waited for
    inFlight.ended("upload-2");
    assertFalse(wait.isComplete(), "only the first upload's end releases the waiters");
    inFlight.ended("upload-1");
    assertTrue(wait.succeeded());
    assertNull(inFlight.pending("ana", SHA));
  }

  @Test
  void losingTheLeadReleasesEveryWaiter() {
    ContentInFlight inFlight = new ContentInFlight();
    inFlight.started("ana", SHA, "upload-1");
    Future<Void> wait = inFlight.pending("ana", SHA);
    inFlight.clear();
    assertTrue(wait.succeeded());
    assertNull(inFlight.pending("ana", SHA));
    inFlight.ended("upload-1"); // late news of a forgotten upload changes nothing
  }
}
