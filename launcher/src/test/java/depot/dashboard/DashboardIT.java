package depot.dashboard;

import depot.dashboard.DashboardHarness.CliResult;
import depot.dashboard.DashboardHarness.Client;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The web dashboard in a real browser against a real cluster. One cluster and one browser serve every test
 * (in order: the node kill comes last); screenshots of each view land in {@code launcher/target/screenshots/}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DashboardIT {
  private DashboardHarness h;
  private Client alice;
  private Client bob;
  private final List<String> aliceNames = new ArrayList<>();
  private final Random random = new Random(42);

  @BeforeAll
  void start() throws Exception {
    h = new DashboardHarness();
    h.startCluster();
    h.startExternalStorageNode();
    alice = h.registerClient("alice");
    bob = h.registerClient("bob");
    // A few files so every view has something to show; alice's names must never reach bob's page.
    for (String name : List.of("alice-quarterly-report.pdf", "alice-holiday-photos.tar", "alice-secret-plans.txt")) {
      h.deposit(alice, name, bytes(20_000 + random.nextInt(200_000)), 3);
      aliceNames.add(name);
    }
    h.deposit(bob, "bob-notes.md", bytes(4_096), 2);
    h.deposit(bob, "bob-build-cache.bin", bytes(300_000), 1);
    h.startBrowser();
  }

  @AfterAll
  void stop() {
    if (h != null) {
      h.close();
    }
  }

  @AfterEach
  void noConsoleErrors() {
    h.assertNoConsoleErrors("during the test");
  }

  private byte[] bytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  @Test
  @Order(1)
  void pageLoadsWithoutConsoleErrorsAndEveryAssetIsLocal() throws Exception {
    // First prove the console check sees errors at all, so that "no errors" below means something.
    h.open("");
    h.js("console.error('depot-console-probe')");
    AssertionError probe = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
        () -> h.assertNoConsoleErrors("(probe)"));
    assertTrue(probe.getMessage().contains("depot-console-probe"), probe.getMessage());
    h.consoleErrors.clear();

    h.signIn(h.adminToken);
    for (String view : List.of("summary", "nodes", "files", "clients", "events")) {
      h.showView(view);
      switch (view) {
        case "summary" -> h.waitFor("the summary's stats", d -> !d.findElement(By.id("card-files"))
            .findElement(By.className("value")).getText().equals("—"));
        case "nodes" -> h.waitFor("the nodes table", d -> d.findElements(By.cssSelector("#nodes-table tbody tr[data-node-id]")).size() >= 4);
        case "files" -> h.waitFor("the files table", d -> d.findElements(By.cssSelector("#files-table tbody tr[data-file-name]")).size() >= 5);
        case "clients" -> h.waitFor("the clients table", d -> d.findElements(By.cssSelector("#clients-table tbody tr[data-client-id]")).size() >= 2);
        case "events" -> h.waitFor("the events list", d -> d.findElements(By.cssSelector("#events-list li")).size() >= 1);
        default -> { }
      }
      h.screenshot("admin-" + view);
      h.assertNoConsoleErrors("on the admin's " + view + " view");
    }
    // Offline: the event-bus client libraries loaded, and every resource came from the gateway itself.
    assertEquals(Boolean.TRUE, h.js("return typeof SockJS === 'function' && typeof EventBus === 'function'"));
    @SuppressWarnings("unchecked")
    List<String> foreign = (List<String>) h.js("return performance.getEntriesByType('resource')"
        + ".map(e => e.name).filter(n => !n.startsWith(location.origin))");
    assertTrue(foreign.isEmpty(), "resources from elsewhere: " + foreign);
  }

  @Test
  @Order(2)
  void nodesTableMatchesTheRunningCluster() {
    h.showView("nodes");
    JsonArray expected = h.nodes();
    // Wait for a render that shows the same set of nodes, then compare cell by cell.
    h.waitFor("the nodes table to list " + expected.size() + " nodes",
        d -> d.findElements(By.cssSelector("#nodes-table tbody tr[data-node-id]")).size() == expected.size());
    // One atomic read of the table (the page re-renders it as fresh data arrives).
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> snapshot = (List<Map<String, Object>>) h.js("return [...document.querySelectorAll("
        + "'#nodes-table tbody tr[data-node-id]')].map(r => ({id: r.dataset.nodeId, status: r.dataset.status, "
        + "cells: [...r.cells].map(c => c.innerText.trim())}))");
    Map<String, List<String>> rows = new TreeMap<>();
    for (Map<String, Object> r : snapshot) {
      @SuppressWarnings("unchecked")
      List<String> cells = (List<String>) r.get("cells");
      rows.put((String) r.get("id"), cells);
    }
    List<String> expectedIds = new ArrayList<>();
    for (Object o : expected) {
      JsonObject n = (JsonObject) o;
      String id = n.getString("id");
      expectedIds.add(id);
      List<String> cells = rows.get(id);
      assertTrue(cells != null, "no row for " + id + " in " + rows.keySet());
      assertEquals(n.getString("status"), cells.get(4), "status of " + id);
      assertEquals(n.getString("host"), cells.get(2), "host of " + id);
      assertEquals(String.valueOf(n.getInteger("rank")), cells.get(3), "rank of " + id);
      for (Object role : n.getJsonArray("roles")) {
        assertTrue(cells.get(1).contains((String) role), id + " lacks role " + role);
      }
      assertEquals(n.getBoolean("leader"), cells.get(0).contains("leader"), "leader mark on " + id);
      assertTrue(cells.get(5).endsWith("ago"), "heartbeat age of " + id + ": " + cells.get(5));
      // Offsets are re-measured every heartbeat, so the page shows a value of the same kind, not the same value.
      if (n.getValue("clockOffsetMs") instanceof Number) {
        assertTrue(cells.get(8).matches("[+-]?[0-9][0-9,.\\u202f\\u00a0 ]* ms"), "clock offset of " + id + ": " + cells.get(8));
      } else {
        assertEquals("—", cells.get(8), "no clock offset reported yet for " + id);
      }
    }
    assertEquals(new java.util.TreeSet<>(expectedIds), rows.keySet());
    assertTrue(rows.keySet().containsAll(List.of("main", "storage-1", "storage-2", DashboardHarness.EXTERNAL_NODE)));
  }

  @Test
  @Order(3)
  void fileUploadedThroughThePageIsRetrievedByteIdenticalWithTheCli() throws Exception {
    h.signOut();
    h.signIn(alice.token());
    h.showView("files");
    byte[] content = bytes(700_000);
    String name = "page-upload-" + System.nanoTime() + ".bin";
    Path file = h.work.resolve(name);
    Files.write(file, content);
    aliceNames.add(name);

    new Select(h.driver.findElement(By.id("upload-replicas"))).selectByValue("2");
    h.driver.findElement(By.id("file-input")).sendKeys(file.toString());
    h.waitFor("the upload to finish", d -> {
      List<WebElement> items = d.findElements(By.cssSelector("#uploads li[data-upload-name='" + name + "']"));
      if (!items.isEmpty() && "failed".equals(items.get(0).getDomAttribute("data-state"))) {
        throw new AssertionError("upload failed: " + items.get(0).getText());
      }
      return !items.isEmpty() && "done".equals(items.get(0).getDomAttribute("data-state"));
    });
    String rowText = h.waitFor("the uploaded file's row", d -> d.findElements(
        By.cssSelector("#files-table tbody tr[data-file-name='" + name + "']")).stream().findFirst().map(WebElement::getText).orElse(null));
    assertTrue(rowText.contains("/ 2"), "desired replica count shown: " + rowText);
    h.screenshot("client-alice-files-upload");

    Path cliDir = h.cliLogin(alice);
    Path out = h.work.resolve("retrieved-" + name);
    CliResult r = h.cli(cliDir, "retrieve", name, "-o", out.toString());
    assertEquals(0, r.code(), "depot retrieve: " + r.err());
    assertArrayEquals(content, Files.readAllBytes(out), "the CLI got different bytes than the page uploaded");
    JsonObject meta = h.getJson("/api/v1/files/" + DashboardHarness.encode(name) + "/meta", alice.token());
    assertEquals(2, meta.getInteger("replicas"));
  }

  @Test
  @Order(4)
  void fileDepositedByTheCliAppearsWithoutReload() throws Exception {
    h.showView("files");
    h.js("window.__noReload = 'still here'");
    long before = Long.parseLong(String.valueOf(h.js("return document.body.dataset.liveMessages || '0'")));
    String name = "cli-deposit-" + System.nanoTime() + ".txt";
    Path file = h.work.resolve(name);
    Files.writeString(file, "deposited by the CLI while the page was watching\n");
    aliceNames.add(name);
    CliResult r = h.cli(h.cliLogin(alice), "deposit", file.toString(), "--replicas", "2");
    assertEquals(0, r.code(), "depot deposit: " + r.err());

    // Well inside the page's slow 20 s sweep: it is the live event that brings the row in.
    h.waitFor("the CLI's file to appear on the page", Duration.ofSeconds(10),
        d -> !d.findElements(By.cssSelector("#files-table tbody tr[data-file-name='" + name + "']")).isEmpty());
    assertEquals("still here", h.js("return window.__noReload"), "the page reloaded");
    long after = Long.parseLong(String.valueOf(h.js("return document.body.dataset.liveMessages || '0'")));
    assertTrue(after > before, "no live event reached the page");
    h.showView("events");
    h.waitFor("the deposit in the events feed", d -> d.findElement(By.id("events-list")).getText().contains(name));
    h.screenshot("client-alice-events");
  }

  @Test
  @Order(5)
  void downloadChangeReplicasAndDeleteFromThePage() throws Exception {
    String name = "actions-" + System.nanoTime() + ".dat";
    byte[] content = bytes(50_000);
    h.deposit(alice, name, content, 2);
    aliceNames.add(name);
    h.showView("files");
    String row = "#files-table tbody tr[data-file-name='" + name + "']";
    h.waitFor("the new file's row", d -> !d.findElements(By.cssSelector(row)).isEmpty());

    // Download: the browser saves the bytes the cluster holds.
    h.click(By.cssSelector(row + " button[data-action='download']"));
    Path saved = h.downloads.resolve(name);
    DashboardHarness.waitUntil(Duration.ofSeconds(20), () -> Files.exists(saved) && sizeOf(saved) == content.length,
        "the download to land in " + h.downloads);
    assertArrayEquals(content, Files.readAllBytes(saved));

    // Change the replica count through the dialog.
    h.click(By.cssSelector(row + " button[data-action='replicas']"));
    WebElement input = h.waitFor("the replicas dialog", d -> d.findElement(By.id("replicas-input")).isDisplayed() ? d.findElement(By.id("replicas-input")) : null);
    input.clear();
    input.sendKeys("1");
    h.screenshot("client-alice-replicas-dialog");
    h.click(By.id("replicas-ok"));
    h.waitFor("1 / 1 replicas on the page", d -> d.findElement(By.cssSelector(row)).getText().contains("1 / 1"));
    assertEquals(1, h.getJson("/api/v1/files/" + DashboardHarness.encode(name) + "/meta", alice.token()).getInteger("replicas"));

    // Delete, after confirming.
    h.click(By.cssSelector(row + " button[data-action='delete']"));
    h.waitFor("the confirmation", d -> d.findElement(By.id("confirm-dialog")).isDisplayed());
    h.screenshot("client-alice-delete-confirm");
    h.click(By.id("confirm-ok"));
    h.waitFor("the row to go", d -> d.findElements(By.cssSelector(row)).isEmpty());
    assertEquals(404, h.status("/api/v1/files/" + DashboardHarness.encode(name) + "/meta", alice.token()));
  }

  private static long sizeOf(Path p) {
    try {
      return Files.size(p);
    } catch (java.io.IOException e) {
      return -1;
    }
  }

  @Test
  @Order(6)
  void clientTokenCannotSeeAnotherClientsFiles() throws Exception {
    h.signOut();
    h.signIn(bob.token());
    h.showView("files");
    h.waitFor("bob's files", d -> d.findElements(By.cssSelector("#files-table tbody tr[data-file-name]")).size() == 2);
    // Bob's browser also tries the bridge directly: listen to the raw coordinator and directory events,
    // and send a delete of alice's file. The bridge must refuse all of it.
    Object opened = h.driver.executeAsyncScript(String.join("\n",
        "const done = arguments[arguments.length - 1];",
        "const owner = arguments[0];",
        "const probe = { errors: [], forbidden: [], dashboard: [], replies: [] };",
        "window.__probe = probe;",
        "const eb = new EventBus('/eventbus');",
        "eb.onerror = (e) => probe.errors.push(JSON.stringify(e));",
        "eb.onopen = () => {",
        "  for (const a of ['depot.coordinator.events', 'depot.directory.events']) {",
        "    eb.registerHandler(a, (err, msg) => err ? probe.errors.push(a + ' ' + JSON.stringify(err)) : probe.forbidden.push(msg));",
        "  }",
        "  eb.registerHandler('depot.dashboard.events', (err, msg) => { if (!err) probe.dashboard.push(msg.body); });",
        "  eb.send('depot.coordinator.file.delete', { owner: owner, name: 'alice-secret-plans.txt' }, {},",
        "    (err, reply) => probe.replies.push(JSON.stringify(err || reply)));",
        "  done(true);",
        "};"), alice.clientId());
    assertEquals(Boolean.TRUE, opened);

    // Alice deposits while bob watches: bob's page refreshes, and still shows nothing of hers.
    long before = Long.parseLong(String.valueOf(h.js("return document.body.dataset.liveMessages || '0'")));
    String late = "alice-late-deposit-" + System.nanoTime() + ".doc";
    aliceNames.add(late);
    h.deposit(alice, late, bytes(1000), 2);
    h.waitFor("the live signal of alice's deposit",
        d -> Long.parseLong(String.valueOf(h.js("return document.body.dataset.liveMessages || '0'"))) > before);
    h.waitFor("the probe's copy of the signal", d -> ((Number) h.js("return window.__probe.dashboard.length")).intValue() > 0);
    assertEquals(0L, h.js("return window.__probe.forbidden.length"), "raw events reached bob's browser");
    String probe = String.valueOf(h.js("return JSON.stringify(window.__probe)"));
    System.out.println("[dashboard] what bob's own event-bus client got: " + probe);
    assertTrue(probe.contains("access_denied"), "the bridge did not refuse: " + probe);
    for (String name : aliceNames) {
      assertFalse(probe.contains(name), "the bridge let alice's file name out: " + probe);
    }
    assertFalse(probe.contains(alice.clientId()), "the bridge let alice's id out: " + probe);
    h.getJson("/api/v1/files/alice-secret-plans.txt/meta", alice.token()); // still there: the send was refused
    for (String view : List.of("summary", "files", "events")) {
      h.showView(view);
      Thread.sleep(800); // let the refresh the signal triggered land
      String page = h.driver.getPageSource();
      for (String name : aliceNames) {
        assertFalse(page.contains(name), "bob's " + view + " view shows alice's file " + name);
      }
      assertFalse(page.contains(alice.clientId()), "bob's " + view + " view shows alice's client id");
      h.screenshot("client-bob-" + view);
    }
    // The admin-only views are not offered, and the API the page uses answers bob with bob's data only.
    assertFalse(h.driver.findElement(By.cssSelector("#tabs a[data-view='nodes']")).isDisplayed());
    assertFalse(h.driver.findElement(By.cssSelector("#tabs a[data-view='clients']")).isDisplayed());
    String events = h.getJson("/api/v1/events", bob.token()).encode();
    String files = h.getJson("/api/v1/files", bob.token()).encode();
    for (String name : aliceNames) {
      assertFalse(events.contains(name), "bob's events feed names alice's file " + name);
      assertFalse(files.contains(name), "bob's file list names alice's file " + name);
    }
    assertFalse(events.contains(alice.clientId()), "bob's events feed carries alice's id");

    // A phone-sized window: nothing wider than the screen except inside the scrolling table wrappers.
    h.driver.manage().window().setSize(new Dimension(390, 844));
    try {
      for (String view : List.of("summary", "files")) {
        h.showView(view);
        h.screenshot("phone-client-bob-" + view);
        Object overflow = h.js("return document.documentElement.scrollWidth - window.innerWidth");
        assertTrue(((Number) overflow).intValue() <= 1, "the " + view + " view is wider than a phone: " + overflow + " px");
      }
    } finally {
      h.driver.manage().window().setSize(new Dimension(1440, 1000));
    }
  }

  @Test
  @Order(7)
  void killedStorageNodeTurnsDownWithoutReload() throws Exception {
    h.signOut();
    h.signIn(h.adminToken);
    h.showView("nodes");
    String rowSelector = "#nodes-table tbody tr[data-node-id='" + DashboardHarness.EXTERNAL_NODE + "']";
    h.waitFor(DashboardHarness.EXTERNAL_NODE + " UP on the page",
        d -> d.findElements(By.cssSelector(rowSelector)).stream().anyMatch(r -> "UP".equals(r.getDomAttribute("data-status"))));
    h.js("window.__noReload = 'still here'");

    long killedAt = System.nanoTime();
    h.externalNode.destroyForcibly(); // SIGKILL: no goodbye, only missing heartbeats
    h.externalNode.waitFor();
    // Detection time is the node expiry (3 s) plus the directory's sweep; allow generous slack on 2 cores.
    h.waitFor(DashboardHarness.EXTERNAL_NODE + " to turn DOWN on the page", Duration.ofSeconds(15),
        d -> d.findElements(By.cssSelector(rowSelector)).stream()
            .anyMatch(r -> "DOWN".equals(r.getDomAttribute("data-status")) && r.getText().contains("DOWN")));
    long seconds = Duration.ofNanos(System.nanoTime() - killedAt).toSeconds();
    assertEquals("still here", h.js("return window.__noReload"), "the page reloaded");
    assertEquals("DOWN", h.nodeStatus(DashboardHarness.EXTERNAL_NODE));
    h.screenshot("admin-nodes-node-down");

    h.showView("summary");
    h.waitFor("the at-risk banner", d -> d.findElement(By.id("risk-banner")).isDisplayed()
        && d.findElement(By.id("risk-banner")).getText().contains(DashboardHarness.EXTERNAL_NODE));
    h.screenshot("admin-summary-at-risk");
    System.out.println("[dashboard] " + DashboardHarness.EXTERNAL_NODE + " shown DOWN " + seconds + " s after SIGKILL");
  }

  /**
   * A storage node whose heap is past its limit is marked on the nodes page and in the at-risk banner. Its
   * limit is set below what any collection leaves, and two full collections (jcmd GC.run, the sustain time
   * apart) make the pressure real: no flag is set by hand.
   */
  @Test
  @Order(8)
  void storageNodeWithAFullHeapIsMarkedOnThePage() throws Exception {
    String id = "storage-heap";
    Process node = h.startStorageProcess(id, Map.of("DEPOT_HEAP_LIMIT_PERCENT", "1"));
    h.signOut();
    h.signIn(h.adminToken);
    h.showView("nodes");
    String rowSelector = "#nodes-table tbody tr[data-node-id='" + id + "']";
    // (Collections of its own start-up may already have pressed it: the page must show it either way.)
    h.waitFor(id + " UP on the page", d -> d.findElements(By.cssSelector(rowSelector)).stream()
        .anyMatch(r -> "UP".equals(r.getDomAttribute("data-status"))));
    h.js("window.__noReload = 'still here'");

    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    for (int i = 0; i < 2; i++) {
      Process gc = new ProcessBuilder(jcmd, String.valueOf(node.pid()), "GC.run").redirectErrorStream(true).start();
      assertEquals(0, gc.waitFor(), new String(gc.getInputStream().readAllBytes()));
      if (i == 0) {
        Thread.sleep(5_500); // HeapPressure.SUSTAIN_MS, and a little
      }
    }
    h.waitFor(id + " marked HEAP FULL on the page", Duration.ofSeconds(20),
        d -> d.findElements(By.cssSelector(rowSelector)).stream()
            .anyMatch(r -> "true".equals(r.getDomAttribute("data-heap-full")) && r.getText().contains("HEAP FULL")));
    assertEquals("still here", h.js("return window.__noReload"), "the page reloaded");
    h.screenshot("admin-nodes-heap-full");
    h.showView("summary");
    h.waitFor("the at-risk banner naming " + id, d -> d.findElement(By.id("risk-banner")).isDisplayed()
        && d.findElement(By.id("risk-banner")).getText().contains("heap nearly full: " + id));
    h.screenshot("admin-summary-heap-full");
  }
}
