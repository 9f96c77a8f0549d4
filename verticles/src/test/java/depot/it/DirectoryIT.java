package depot.it;

import depot.protocol.Addresses;
import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The directory over the event bus of a real cluster: registration, look-up, heartbeats, ranks, expiry, events. */
class DirectoryIT {
  /** TestCluster's nodeExpiryMs. */
  static final long EXPIRY_MS = 2000;
  /** How much later than the deadline a silent node may be noticed on a busy machine. */
  static final long MARGIN_MS = 4000;

  static TestCluster cluster;
  static Vertx vertx;
  static Api api;
  static MessageConsumer<JsonObject> eventConsumer;
  static final List<Event> events = new CopyOnWriteArrayList<>();

  record Event(long receivedAt, JsonObject body) {
    String type() {
      return body.getString("type");
    }

    String nodeId() {
      JsonObject node = body.getJsonObject("node");
      return node == null ? null : node.getString("id");
    }
  }

  @BeforeAll
  static void up() throws Exception {
    cluster = TestCluster.start(0);
    vertx = cluster.anyVertx();
    api = new Api(cluster.baseUrl());
    eventConsumer = vertx.eventBus().consumer(Addresses.DIRECTORY_EVENTS,
        msg -> events.add(new Event(System.currentTimeMillis(), msg.body())));
    TestCluster.await(eventConsumer.completion());
  }

  @AfterAll
  static void down() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  // ---- helpers ----

  static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  static JsonObject registration(String name, String instance) {
    return new JsonObject().put("name", name).put("instance", instance)
        .put("roles", new JsonArray().add("storage"))
        .put("host", "10.1.2.3")
        .put("endpoints", new JsonObject().put("storage", "http://10.1.2.3:7001"));
  }

  static JsonObject ask(String address, Object body) throws Exception {
    return TestCluster.await(vertx.eventBus().<JsonObject>request(address, body,
        new DeliveryOptions().setSendTimeout(20_000))).body();
  }

  /** The failure of a request that must fail: the raw reply exception. */
  static ReplyException refused(String address, Object body) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> ask(address, body),
        () -> address + " should refuse " + body);
    return assertInstanceOf(ReplyException.class, e.getCause());
  }

  static void assertRefused(ErrorCode code, String address, Object body, String... messageContains) {
    ReplyException re = refused(address, body);
    assertTrue(re.getMessage().contains(code.code()), () -> "expected " + code.code() + " but got " + re.getMessage());
    assertEquals(code.httpStatus(), re.failureCode());
    DepotException de = DepotException.from(re);
    assertEquals(code, de.code());
    for (String part : messageContains) {
      assertTrue(de.getMessage().contains(part), () -> "'" + de.getMessage() + "' should mention " + part);
    }
  }

  static JsonObject register(String name, String instance) throws Exception {
    return ask(Addresses.DIRECTORY_REGISTER, registration(name, instance));
  }

  static JsonObject lookup(String name) throws Exception {
    return ask(Addresses.DIRECTORY_LOOKUP, new JsonObject().put("name", name));
  }

  static JsonObject heartbeat(String name, String instance) throws Exception {
    return ask(Addresses.DIRECTORY_HEARTBEAT, new JsonObject().put("name", name).put("instance", instance)
        .put("stats", new JsonObject().put("diskFree", 1000L).put("diskUsed", 10L).put("replicas", 2L)));
  }

  static JsonArray nodes() throws Exception {
    return ask(Addresses.DIRECTORY_NODES, new JsonObject()).getJsonArray("nodes");
  }

  /** Heartbeats like a node agent (every 300 ms) until closed. */
  static final class Beater implements AutoCloseable {
    final long timer;

    Beater(String name, String instance) {
      timer = vertx.setPeriodic(1, 300, id -> vertx.eventBus().request(Addresses.DIRECTORY_HEARTBEAT,
          new JsonObject().put("name", name).put("instance", instance).put("stats", new JsonObject())));
    }

    @Override
    public void close() {
      vertx.cancelTimer(timer);
    }
  }

  static Event awaitEvent(String type, String nodeId, long timeoutMs) throws InterruptedException {
    return awaitEvent(e -> type.equals(e.type()) && nodeId.equals(e.nodeId()), timeoutMs,
        type + " for " + nodeId);
  }

  static Event awaitEvent(Predicate<Event> match, long timeoutMs, String what) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (true) {
      Optional<Event> hit = events.stream().filter(match).findFirst();
      if (hit.isPresent()) {
        return hit.get();
      }
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("no " + what + " within " + timeoutMs + " ms; events: " + events);
      }
      Thread.sleep(50);
    }
  }

  static String awaitStatus(String name, String status, long timeoutMs) throws Exception {
    long deadline = System.currentTimeMillis() + timeoutMs;
    String last;
    do {
      last = lookup(name).getString("status");
      if (status.equals(last)) {
        return last;
      }
      Thread.sleep(50);
    } while (System.currentTimeMillis() < deadline);
    throw new AssertionError(name + " is " + last + ", not " + status + ", after " + timeoutMs + " ms");
  }

  // ---- register ----

  @Test
  void registerNewNameGivesAPositiveRank() throws Exception {
    String name = unique("reg");
    JsonObject reply = register(name, "i-1");
    assertEquals(name, reply.getString("name"));
    assertTrue(reply.getInteger("rank") > 0, reply.encode());
    assertNotNull(reply.getString("registration"));
    awaitEvent("node.up", name, 5000);
  }

  @Test
  void sameNameFromAnotherInstanceWhileItHeartbeatsIsADuplicate() throws Exception {
    String name = unique("dup");
    int rank = register(name, "first").getInteger("rank");
    try (Beater ignored = new Beater(name, "first")) {
      assertRefused(ErrorCode.DUPLICATE_NAME, Addresses.DIRECTORY_REGISTER, registration(name, "second"), name);
      assertRefused(ErrorCode.DUPLICATE_NAME, Addresses.DIRECTORY_REGISTER, registration(name, ""), name);
      assertRefused(ErrorCode.DUPLICATE_NAME, Addresses.DIRECTORY_REGISTER,
          new JsonObject().put("name", name).put("roles", new JsonArray()), name); // no instance at all
      // the holder is untouched
      JsonObject record = lookup(name);
      assertEquals("UP", record.getString("status"));
      assertEquals(rank, record.getInteger("rank"));
      assertEquals("UP", heartbeat(name, "first").getString("status"), "the holder still beats");
      assertRefused(ErrorCode.NOT_FOUND, Addresses.DIRECTORY_HEARTBEAT,
          new JsonObject().put("name", name).put("instance", "second"), name);
    }
  }

  @Test
  void reRegisterFromTheSameInstanceIsIdempotent() throws Exception {
    String name = unique("same");
    JsonObject first = register(name, "inst");
    try (Beater ignored = new Beater(name, "inst")) {
      JsonObject second = register(name, "inst");
      assertEquals(first.getInteger("rank"), second.getInteger("rank"));
      assertEquals(first.getString("registration"), second.getString("registration"), "the same record");
      // a restarted listener may come back on another port: the record follows
      JsonObject moved = registration(name, "inst").put("endpoints", new JsonObject().put("storage", "http://10.1.2.3:7999"));
      assertEquals(first.getInteger("rank"), ask(Addresses.DIRECTORY_REGISTER, moved).getInteger("rank"));
      assertEquals("http://10.1.2.3:7999", lookup(name).getJsonObject("endpoints").getString("storage"));
      long withThisName = nodes().stream().map(o -> (JsonObject) o).filter(n -> name.equals(n.getString("id"))).count();
      assertEquals(1, withThisName, "one record per name");
    }
  }

  // ---- lookup ----

  @Test
  void lookupKnownGivesTheRecord() throws Exception {
    String name = unique("look");
    JsonObject reg = registration(name, "i").put("roles", new JsonArray().add("storage").add("gateway"))
        .put("endpoints", new JsonObject().put("storage", "http://10.1.2.3:7001").put("gateway", "http://10.1.2.3:8080"));
    int rank = ask(Addresses.DIRECTORY_REGISTER, reg).getInteger("rank");
    heartbeat(name, "i");
    JsonObject r = lookup(name);
    assertEquals(name, r.getString("id"));
    assertEquals(new JsonArray().add("storage").add("gateway"), r.getJsonArray("roles"));
    assertEquals("10.1.2.3", r.getString("host"));
    assertEquals(reg.getJsonObject("endpoints"), r.getJsonObject("endpoints"));
    assertEquals(rank, r.getInteger("rank"));
    assertEquals("UP", r.getString("status"));
    assertNotNull(r.getString("lastHeartbeat"));
    assertEquals(1000L, r.getLong("diskFree"), "the last heartbeat's stats");
    assertEquals(10L, r.getLong("diskUsed"));
    assertEquals(2L, r.getLong("replicas"));
  }

  @Test
  void lookupOfTheMainNode() throws Exception {
    JsonObject main = lookup("main");
    assertEquals("UP", main.getString("status"));
    assertTrue(main.getJsonArray("roles").contains("directory"));
    assertTrue(main.getInteger("rank") > 0);
    assertTrue(main.getJsonObject("endpoints").getString("gateway").startsWith("http://"));
  }

  @Test
  void lookupUnknownIsNotFoundNamingIt() {
    String name = unique("nobody");
    assertRefused(ErrorCode.NOT_FOUND, Addresses.DIRECTORY_LOOKUP, new JsonObject().put("name", name), name);
  }

  // ---- unregister ----

  @Test
  void unregisterRemovesTheRecordAndAnnouncesIt() throws Exception {
    String name = unique("unreg");
    register(name, "i");
    assertEquals(name, ask(Addresses.DIRECTORY_UNREGISTER, new JsonObject().put("name", name)).getString("name"));
    assertRefused(ErrorCode.NOT_FOUND, Addresses.DIRECTORY_LOOKUP, new JsonObject().put("name", name), name);
    awaitEvent("node.unregistered", name, 5000);
    assertTrue(nodes().stream().map(o -> (JsonObject) o).noneMatch(n -> name.equals(n.getString("id"))));
    // its heartbeats are refused now (so a live agent would register again)
    assertRefused(ErrorCode.NOT_FOUND, Addresses.DIRECTORY_HEARTBEAT,
        new JsonObject().put("name", name).put("instance", "i"), name);
    assertRefused(ErrorCode.NOT_FOUND, Addresses.DIRECTORY_UNREGISTER, new JsonObject().put("name", name), name);
  }

  @Test
  void reRegisterAfterUnregisterKeepsTheRank() throws Exception {
    String name = unique("back");
    int rank = register(name, "i").getInteger("rank");
    ask(Addresses.DIRECTORY_UNREGISTER, new JsonObject().put("name", name));
    assertEquals(rank, register(name, "j").getInteger("rank"), "ranks are given once per name");
    assertEquals("UP", lookup(name).getString("status"));
  }

  @Test
  void unregisterUnknownIsNotFound() {
    String name = unique("ghost");
    assertRefused(ErrorCode.NOT_FOUND, Addresses.DIRECTORY_UNREGISTER, new JsonObject().put("name", name), name);
  }

  // ---- heartbeat ----

  @Test
  void heartbeatForAnUnregisteredNameIsNotFound() {
    String name = unique("nobeat");
    assertRefused(ErrorCode.NOT_FOUND, Addresses.DIRECTORY_HEARTBEAT,
        new JsonObject().put("name", name).put("instance", "x").put("stats", new JsonObject()), name);
  }

  @Test
  void heartbeatOfTheRegisteredInstanceIsAccepted() throws Exception {
    String name = unique("beat");
    register(name, "i");
    assertEquals("UP", heartbeat(name, "i").getString("status"));
  }

  // ---- ranks ----

  @Test
  void ranksAreUniqueAcrossRegistrations() throws Exception {
    List<Future<JsonObject>> concurrent = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      String name = unique("rank" + i);
      names.add(name);
      concurrent.add(vertx.eventBus().<JsonObject>request(Addresses.DIRECTORY_REGISTER, registration(name, "i"))
          .map(m -> m.body()));
    }
    TestCluster.await(Future.all(concurrent));
    for (int i = 0; i < 4; i++) {
      String name = unique("rankseq" + i);
      names.add(name);
      register(name, "i");
    }
    Set<Integer> mine = new HashSet<>();
    for (String name : names) {
      int rank = lookup(name).getInteger("rank");
      assertTrue(rank > 0);
      assertTrue(mine.add(rank), "rank " + rank + " given twice");
    }
    List<Integer> all = nodes().stream().map(o -> ((JsonObject) o).getInteger("rank")).toList();
    assertEquals(all.size(), new HashSet<>(all).size(), "ranks over the whole directory are unique: " + all);
  }

  @Test
  void aFreeClaimedRankIsHonouredAndATakenOneIsNot() throws Exception {
    String a = unique("claim-a");
    String b = unique("claim-b");
    String c = unique("claim-c");
    int claim = 100_000 + (int) (System.nanoTime() % 10_000);
    assertEquals(claim, ask(Addresses.DIRECTORY_REGISTER, registration(a, "i").put("rank", claim)).getInteger("rank"));
    int bRank = ask(Addresses.DIRECTORY_REGISTER, registration(b, "i").put("rank", claim)).getInteger("rank");
    assertNotEquals(claim, bRank, "a claimed rank held by another name is not given out again");
    assertTrue(bRank > 0);
    int cRank = register(c, "i").getInteger("rank");
    assertTrue(cRank > claim, "new ranks come after every claimed one: " + cRank);
    // a name keeps its rank whatever it claims later
    assertEquals(claim, ask(Addresses.DIRECTORY_REGISTER, registration(a, "i").put("rank", 7)).getInteger("rank"));
  }

  @Test
  void ranksStayUniqueWhenClaimsRaceNewRegistrations() throws Exception {
    // restarted nodes claim the ranks they kept on disk while new nodes join: both at once
    int probe = register(unique("race-probe"), "i").getInteger("rank");
    List<Future<JsonObject>> all = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (int k = 1; k <= 5; k++) {
      String fresh = unique("race-new" + k);
      String claimer = unique("race-claim" + k);
      names.add(fresh);
      names.add(claimer);
      all.add(vertx.eventBus().<JsonObject>request(Addresses.DIRECTORY_REGISTER, registration(fresh, "i")).map(m -> m.body()));
      all.add(vertx.eventBus().<JsonObject>request(Addresses.DIRECTORY_REGISTER,
          registration(claimer, "i").put("rank", probe + k)).map(m -> m.body()));
    }
    try {
      TestCluster.await(Future.all(all));
      List<Integer> ranks = new ArrayList<>();
      for (String name : names) {
        ranks.add(lookup(name).getInteger("rank"));
      }
      assertEquals(ranks.size(), new HashSet<>(ranks).size(), "duplicate ranks: " + names + " -> " + ranks);
    } finally {
      // keep any duplicates out of the other tests' view of the directory
      List<Future<Object>> gone = new ArrayList<>();
      for (String name : names) {
        gone.add(vertx.eventBus().request(Addresses.DIRECTORY_UNREGISTER, new JsonObject().put("name", name))
            .map(m -> m.body()));
      }
      TestCluster.await(Future.join(gone).otherwiseEmpty());
    }
  }

  // ---- expiry ----

  @Test
  void silentRegistrationGoesDownThenComesBackWithHeartbeats() throws Exception {
    String name = unique("silent");
    long registeredBefore = System.currentTimeMillis();
    register(name, "i");
    assertEquals("UP", lookup(name).getString("status"));

    Event down = awaitEvent("node.down", name, EXPIRY_MS + MARGIN_MS);
    long silentFor = down.receivedAt() - registeredBefore;
    assertTrue(silentFor >= EXPIRY_MS, "declared down after only " + silentFor + " ms");
    assertEquals("DOWN", down.body().getJsonObject("node").getString("status"));
    assertEquals("DOWN", lookup(name).getString("status"));
    assertEquals("DOWN", httpNode(name).getString("status"), "the HTTP node list agrees");

    long upEventsBefore = events.stream().filter(e -> "node.up".equals(e.type()) && name.equals(e.nodeId())).count();
    assertEquals("UP", heartbeat(name, "i").getString("status"));
    awaitEvent(e -> "node.up".equals(e.type()) && name.equals(e.nodeId())
        && events.stream().filter(x -> "node.up".equals(x.type()) && name.equals(x.nodeId())).count() > upEventsBefore,
        5000, "a second node.up for " + name);
    assertEquals("UP", lookup(name).getString("status"));
    assertEquals("UP", httpNode(name).getString("status"));
  }

  @Test
  void heartbeatingRegistrationStaysUp() throws Exception {
    String name = unique("alive");
    register(name, "i");
    try (Beater ignored = new Beater(name, "i")) {
      long until = System.currentTimeMillis() + EXPIRY_MS + 1000;
      while (System.currentTimeMillis() < until) {
        assertEquals("UP", lookup(name).getString("status"));
        Thread.sleep(200);
      }
      assertTrue(events.stream().noneMatch(e -> "node.down".equals(e.type()) && name.equals(e.nodeId())));
    }
  }

  @Test
  void aNameHeldByADownNodeCanBeTakenByANewInstance() throws Exception {
    String name = unique("takeover");
    int rank = register(name, "old").getInteger("rank");
    awaitStatus(name, "DOWN", EXPIRY_MS + MARGIN_MS);
    JsonObject reply = register(name, "new");
    assertEquals(rank, reply.getInteger("rank"), "a restarted node gets its rank back");
    assertEquals("UP", lookup(name).getString("status"));
    assertEquals("UP", heartbeat(name, "new").getString("status"));
    assertRefused(ErrorCode.NOT_FOUND, Addresses.DIRECTORY_HEARTBEAT,
        new JsonObject().put("name", name).put("instance", "old"), name);
  }

  // ---- malformed requests ----

  static final List<String> ADDRESSES = List.of(Addresses.DIRECTORY_REGISTER, Addresses.DIRECTORY_LOOKUP,
      Addresses.DIRECTORY_UNREGISTER, Addresses.DIRECTORY_HEARTBEAT, Addresses.DIRECTORY_NODES);
  static final List<String> NAMED = ADDRESSES.subList(0, 4);

  @Test
  void nonJsonBodiesAreBadRequests() {
    for (String address : ADDRESSES) {
      for (Object body : List.of("not json", "{\"name\":\"x\"}", 42, new JsonArray().add("x"))) {
        assertRefused(ErrorCode.BAD_REQUEST, address, body);
      }
    }
  }

  @Test
  void missingNameIsABadRequest() {
    for (String address : NAMED) {
      assertRefused(ErrorCode.BAD_REQUEST, address, new JsonObject(), "name");
      assertRefused(ErrorCode.BAD_REQUEST, address, new JsonObject().put("instance", "i"), "name");
      assertRefused(ErrorCode.BAD_REQUEST, address, new JsonObject().putNull("name"), "name");
    }
  }

  @Test
  void nameThatIsNotAStringIsABadRequest() {
    for (String address : NAMED) {
      for (Object name : List.of(42, true, new JsonObject().put("a", 1), new JsonArray().add("n"), 1.5)) {
        assertRefused(ErrorCode.BAD_REQUEST, address, new JsonObject().put("name", name), "name");
      }
    }
  }

  @Test
  void blankOrOverlongNameIsABadRequest() {
    for (String address : NAMED) {
      assertRefused(ErrorCode.BAD_REQUEST, address, new JsonObject().put("name", ""));
      assertRefused(ErrorCode.BAD_REQUEST, address, new JsonObject().put("name", "   "));
      assertRefused(ErrorCode.BAD_REQUEST, address, new JsonObject().put("name", "n".repeat(256)));
    }
  }

  @Test
  void wronglyTypedFieldsAreBadRequests() throws Exception {
    String beating = unique("typed-stats");
    register(beating, "i");
    // (a non-string "instance" is read through JsonObject.getString, which takes any value's text: not an error)
    assertAll(
        () -> assertRefused(ErrorCode.BAD_REQUEST, Addresses.DIRECTORY_REGISTER,
            registration(unique("typed-rank"), "i").put("rank", "seven")),
        () -> assertRefused(ErrorCode.BAD_REQUEST, Addresses.DIRECTORY_REGISTER,
            registration(unique("typed-roles"), "i").put("roles", "storage")),
        () -> assertRefused(ErrorCode.BAD_REQUEST, Addresses.DIRECTORY_REGISTER,
            registration(unique("typed-endpoints"), "i").put("endpoints", "http://x:1")),
        () -> assertRefused(ErrorCode.BAD_REQUEST, Addresses.DIRECTORY_HEARTBEAT,
            new JsonObject().put("name", beating).put("instance", "i").put("stats", "full")));
  }

  @Test
  void nodesListsEveryRegistrationSortedByName() throws Exception {
    String b = unique("zz-list-b");
    String a = b.replace("zz-list-b", "zz-list-a");
    register(b, "i");
    register(a, "i");
    List<String> ids = nodes().stream().map(o -> ((JsonObject) o).getString("id")).toList();
    assertTrue(ids.contains("main"));
    assertTrue(ids.indexOf(a) >= 0 && ids.indexOf(a) < ids.indexOf(b), ids.toString());
    List<String> sorted = new ArrayList<>(ids);
    sorted.sort(String::compareTo);
    assertEquals(sorted, ids);
  }

  // ---- HTTP view ----

  static JsonObject httpNode(String name) throws Exception {
    HttpResponse<String> r = api.get(TestCluster.ADMIN_TOKEN, "/api/v1/nodes");
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body()).getJsonArray("nodes").stream().map(o -> (JsonObject) o)
        .filter(n -> name.equals(n.getString("id"))).findFirst()
        .orElseThrow(() -> new AssertionError(name + " not in " + r.body()));
  }

  @Test
  void httpNodeListShowsTheNodesWithStatus() throws Exception {
    String name = unique("http");
    int rank = register(name, "i").getInteger("rank");
    HttpResponse<String> r = api.get(TestCluster.ADMIN_TOKEN, "/api/v1/nodes");
    assertEquals(200, r.statusCode(), r.body());
    JsonArray listed = new JsonObject(r.body()).getJsonArray("nodes");
    JsonObject main = listed.stream().map(o -> (JsonObject) o).filter(n -> "main".equals(n.getString("id")))
        .findFirst().orElseThrow();
    assertEquals("UP", main.getString("status"));
    assertTrue(main.getBoolean("leader"), "main runs the coordinator");
    assertTrue(main.getJsonArray("roles").contains("gateway"));
    JsonObject mine = httpNode(name);
    assertEquals("UP", mine.getString("status"));
    assertEquals(rank, mine.getInteger("rank"));
    assertFalse(mine.getBoolean("leader"));
    assertEquals("10.1.2.3", mine.getString("host"));
    for (Object o : listed) {
      String status = ((JsonObject) o).getString("status");
      assertTrue("UP".equals(status) || "DOWN".equals(status), status);
    }
  }

  @Test
  void httpNodeListNeedsTheAdminToken() throws Exception {
    int anonymous = api.get(null, "/api/v1/nodes").statusCode();
    assertTrue(anonymous == 401 || anonymous == 403, "anonymous: " + anonymous);
    int wrong = api.get("not-the-admin-token", "/api/v1/nodes").statusCode();
    assertTrue(wrong == 401 || wrong == 403, "wrong token: " + wrong);
  }

  @Test
  void directoryAnswersFromEveryNodeOfTheCluster() throws Exception {
    // a second member that runs no directory reaches it over the clustered event bus
    cluster.startNode("observer", new JsonArray().add("storage"));
    try {
      awaitStatus("observer", "UP", 10_000);
      JsonObject viaOther = TestCluster.await(cluster.vertx("observer").eventBus()
          .<JsonObject>request(Addresses.DIRECTORY_LOOKUP, new JsonObject().put("name", "main"))).body();
      assertEquals("main", viaOther.getString("id"));
    } finally {
      cluster.stopNode("observer");
    }
    awaitStatus("observer", "DOWN", EXPIRY_MS + MARGIN_MS);
    awaitEvent("node.down", "observer", 1000);
  }

  @Test
  void eventsCarryTheNodeRecord() throws Exception {
    String name = unique("evt");
    register(name, "i");
    Event up = awaitEvent("node.up", name, 5000);
    JsonObject node = up.body().getJsonObject("node");
    assertEquals("UP", node.getString("status"));
    assertEquals("10.1.2.3", node.getString("host"));
    assertTrue(node.getInteger("rank") > 0);
  }
}
