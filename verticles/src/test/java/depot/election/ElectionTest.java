package depot.election;

import depot.testing.OnLoop;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The election's rules on a real (local) event bus: candidates are several {@link Election}s with short
 * intervals, each counting how often it took over and stepped down.
 */
@ExtendWith(VertxExtension.class)
class ElectionTest {
  static final long INTERVAL = 50;
  static final long EXPIRY = 300;

  Vertx vertx;
  final List<Node> nodes = new ArrayList<>();

  static final class Node implements Election.Candidate {
    final String id;
    int rank;
    boolean inSync = true;
    int takeOvers;
    int stepDowns;
    /** How long a takeover takes (catching up the catalog); 0: at once. */
    long takeOverMs;
    Election election;

    Node(String id, int rank) {
      this.id = id;
      this.rank = rank;
    }

    @Override
    public Future<Long> takeOver(long proposedTerm) {
      takeOvers++;
      if (takeOverMs == 0) {
        return Future.succeededFuture(proposedTerm);
      }
      io.vertx.core.Promise<Long> done = io.vertx.core.Promise.promise();
      Vertx.currentContext().owner().setTimer(takeOverMs, id -> done.complete(proposedTerm));
      return done.future();
    }

    @Override
    public Future<Void> stepDown() {
      stepDowns++;
      return Future.succeededFuture();
    }

    @Override
    public boolean inSync() {
      return inSync;
    }

    @Override
    public long progress() {
      return 0;
    }
  }

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
  }

  Node start(String id, int rank) throws Exception {
    return start(new Node(id, rank));
  }

  Node start(Node n) throws Exception {
    String id = n.id;
    n.election = new Election(vertx, "test", id, () -> n.rank, n, INTERVAL, EXPIRY);
    onLoop(() -> n.election.start());
    nodes.add(n);
    return n;
  }

  <T> T onLoop(java.util.function.Supplier<Future<T>> action) throws Exception {
    return OnLoop.run(vertx, action);
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 5000;
    while (!condition.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("not within 5 s: " + what);
      }
      Thread.sleep(10);
    }
  }

  long leaders() {
    return nodes.stream().filter(n -> n.election.leading()).count();
  }

  @Test
  void theHighestRankLeadsAlone() throws Exception {
    Node low = start("a", 1);
    Node high = start("b", 3);
    Node mid = start("c", 2);
    await("b leads", () -> high.election.leading());
    Thread.sleep(5 * INTERVAL);
    assertEquals(1, leaders(), "one leader at a time");
    assertFalse(low.election.leading());
    assertFalse(mid.election.leading());
    assertEquals("b", mid.election.leader().orElseThrow().nodeId());
  }

  @Test
  void whenTheLeaderStopsTheNextRankTakesOverInALaterTerm() throws Exception {
    start("a", 1);
    Node high = start("b", 3);
    Node mid = start("c", 2);
    await("b leads", () -> high.election.leading());
    long term = high.election.term();
    onLoop(() -> high.election.stop());
    nodes.remove(high);
    long stopped = System.currentTimeMillis();
    await("c leads", () -> mid.election.leading());
    assertTrue(System.currentTimeMillis() - stopped >= EXPIRY - INTERVAL, "not before the leader's beacons expire");
    assertTrue(mid.election.term() > term);
    assertEquals(1, leaders());
  }

  @Test
  void aHigherRankThatJoinsLaterTakesOverOnlyOnceInSync() throws Exception {
    Node low = start("a", 1);
    await("a leads", () -> low.election.leading());
    Node high = new Node("b", 5);
    high.inSync = false;
    high.election = new Election(vertx, "test", "b", () -> high.rank, high, INTERVAL, EXPIRY);
    onLoop(() -> high.election.start());
    nodes.add(high);
    Thread.sleep(8 * INTERVAL);
    assertTrue(low.election.leading(), "a candidate catching up does not push the leader aside");
    high.inSync = true;
    await("b leads", () -> high.election.leading());
    assertFalse(low.election.leading());
    assertEquals(1, low.stepDowns);
  }

  @Test
  void aCandidateTakingOverClaimsTheLeadSoNoOtherTakesOverMeanwhile() throws Exception {
    // a decides first, and its takeover (catching up the catalog) lasts; b, of higher rank, comes to decide
    // while it runs. Only once a leads (and b is in sync) does b take over, by a handover.
    Node low = new Node("a", 1);
    low.takeOverMs = 10 * INTERVAL;
    start(low);
    await("a takes over", () -> low.takeOvers == 1);
    Node high = start("b", 3);
    high.inSync = false;
    Thread.sleep(6 * INTERVAL);
    assertEquals(0, high.takeOvers, "b took over while a was taking over");
    await("a leads", () -> low.election.leading());
    assertEquals(0, high.takeOvers);
    high.inSync = true;
    await("b leads", () -> high.election.leading());
    assertFalse(low.election.leading());
  }

  @Test
  void aTriggerRunsANewElection() throws Exception {
    Node high = start("b", 3);
    start("a", 1);
    await("b leads", () -> high.election.leading());
    long term = high.election.term();
    high.election.trigger();
    await("a new term", () -> high.election.leading() && high.election.term() > term);
    assertEquals(2, high.takeOvers);
    assertEquals(1, high.stepDowns);
  }

  @Test
  void aTriggerDuringATakeoverEndsThatTermToo() throws Exception {
    Node high = new Node("b", 3);
    high.takeOverMs = 10 * INTERVAL;
    high.election = new Election(vertx, "test", "b", () -> high.rank, high, INTERVAL, EXPIRY);
    onLoop(() -> high.election.start());
    nodes.add(high);
    await("b is taking over", () -> high.takeOvers == 1);
    // Watchers already see the term being taken over: a trigger now must not be lost.
    high.election.trigger();
    await("b steps down after taking over, then leads a later term", () -> high.stepDowns == 1 && high.election.leading());
    assertEquals(2, high.takeOvers);
    assertTrue(high.election.term() >= 2, "term " + high.election.term());
  }

  @Test
  void somethingThatIsNotABeaconChangesNothing() throws Exception {
    Node high = start("b", 3);
    await("b leads", () -> high.election.leading());
    vertx.eventBus().publish("depot.election.test", "not json");
    vertx.eventBus().publish("depot.election.test", new io.vertx.core.json.JsonObject().put("nodeId", "x").put("term", "nine"));
    Thread.sleep(4 * INTERVAL);
    assertTrue(high.election.leading());
    assertEquals(1, high.election.describe().getJsonArray("candidates").size());
  }
}
