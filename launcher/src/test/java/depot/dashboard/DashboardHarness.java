package depot.dashboard;

import depot.cli.CliContext;
import depot.cli.DepotCli;
import depot.launcher.DevCluster;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the dashboard's browser tests run against: an in-process {@link DevCluster} (main + two storage
 * nodes), one more storage node as a separate OS process of the built jar (so a test can SIGKILL it), and
 * Debian's headless Chromium driven through Debian's chromedriver. Nothing is downloaded: a missing browser
 * fails the tests with a message saying what to install.
 */
final class DashboardHarness implements AutoCloseable {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  static final String EXTERNAL_NODE = "storage-x";
  static final Duration WAIT = Duration.ofSeconds(20);

  final Path repoRoot;
  final Path work;
  final Path screenshots;
  final Path downloads;
  final String adminToken = "ui-admin-" + UUID.randomUUID();
  final Map<String, String> env = new HashMap<>();
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  DevCluster cluster;
  Process externalNode;
  /** Every storage node started as a process of its own, stopped on close. */
  private final List<Process> started = new ArrayList<>();
  ChromeDriver driver;
  String base;
  final List<String> consoleErrors = new ArrayList<>();

  DashboardHarness() throws IOException {
    requireExecutable(CHROMIUM, "chromium");
    requireExecutable(CHROMEDRIVER, "chromium-driver");
    repoRoot = findRepoRoot();
    Path target = repoRoot.resolve("launcher").resolve("target");
    work = Files.createDirectories(target.resolve("dashboard-it")).resolve("run-" + System.currentTimeMillis());
    Files.createDirectories(work);
    screenshots = Files.createDirectories(target.resolve("screenshots"));
    downloads = Files.createDirectories(work.resolve("downloads"));
  }

  private static void requireExecutable(Path path, String debianPackage) {
    if (!Files.isExecutable(path)) {
      fail(path + " is missing: the dashboard's browser tests need Debian's headless Chromium and its driver. "
          + "Install them with `apt-get install chromium chromium-driver` (.ci/run does this when they are missing).");
    }
  }

  private static Path findRepoRoot() {
    Path dir = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.exists(p.resolve("conf").resolve("cluster.xml")) && Files.isDirectory(p.resolve("launcher"))) {
        return p;
      }
    }
    throw new IllegalStateException("cannot find the repository root (conf/cluster.xml) above " + dir);
  }

  // ---- cluster ----

  void startCluster() throws Exception {
    env.put("DEPOT_CLUSTER_NAME", "depot-ui-" + UUID.randomUUID().toString().substring(0, 8));
    env.put("DEPOT_CLUSTER_PORT", "6101");
    env.put("DEPOT_HEARTBEAT_INTERVAL_MS", "500");
    env.put("DEPOT_NODE_EXPIRY_MS", "3000");
    env.put("DEPOT_ADMIN_TOKEN", adminToken);
    cluster = DevCluster.start(env, work.resolve("data"), 2, 0);
    base = "http://127.0.0.1:" + cluster.port();
  }

  /** One storage node as its own JVM, from the jar {@code mvn package} built. */
  void startExternalStorageNode() throws Exception {
    externalNode = startStorageProcess(EXTERNAL_NODE, Map.of());
  }

  /** A storage node {@code id} in a JVM of its own, with {@code extraEnv} on top of the cluster's; once UP. */
  Process startStorageProcess(String id, Map<String, String> extraEnv) throws Exception {
    Path jar = repoRoot.resolve("launcher").resolve("target").resolve("depot.jar");
    assertTrue(Files.exists(jar), jar + " is missing: run the tests through `mvn verify` (the jar is built in package)");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java,
        "--add-modules", "java.se", "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
        "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/java.nio=ALL-UNNAMED",
        "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
        "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
        "-jar", jar.toString(), "node", "-cluster", "-conf", "conf/storage.json")
        .directory(repoRoot.toFile())
        .redirectErrorStream(true)
        .redirectOutput(work.resolve(id + ".log").toFile());
    Map<String, String> penv = pb.environment();
    penv.put("DEPOT_NODE_ID", id);
    penv.put("DEPOT_DATA_DIR", work.resolve("data").resolve(id).toString());
    penv.put("DEPOT_CLUSTER_NAME", env.get("DEPOT_CLUSTER_NAME"));
    penv.put("DEPOT_CLUSTER_PORT", env.get("DEPOT_CLUSTER_PORT"));
    penv.put("DEPOT_HEARTBEAT_INTERVAL_MS", env.get("DEPOT_HEARTBEAT_INTERVAL_MS"));
    penv.putAll(extraEnv);
    Process node = pb.start();
    started.add(node);
    // Should this JVM die before close(), the node must not outlive it.
    Runtime.getRuntime().addShutdownHook(new Thread(node::destroyForcibly));
    waitUntil(Duration.ofSeconds(120), () -> {
      if (!node.isAlive()) {
        fail(id + " exited with " + node.exitValue() + "; see " + work.resolve(id + ".log"));
      }
      return "UP".equals(nodeStatus(id));
    }, id + " did not register UP");
    return node;
  }

  String nodeStatus(String id) {
    for (Object o : nodes()) {
      JsonObject n = (JsonObject) o;
      if (id.equals(n.getString("id"))) {
        return n.getString("status");
      }
    }
    return null;
  }

  JsonArray nodes() {
    return getJson("/api/v1/nodes", adminToken).getJsonArray("nodes");
  }

  // ---- HTTP API, for setting up and checking ----

  record Client(String nickname, String clientId, String token) {}

  Client registerClient(String nickname) {
    JsonObject reply = send(HttpRequest.newBuilder(uri("/api/v1/clients"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("nickname", nickname).encode())).build(), 201);
    return new Client(nickname, reply.getString("clientId"), reply.getString("token"));
  }

  JsonObject deposit(Client client, String name, byte[] bytes, int replicas) {
    return send(HttpRequest.newBuilder(uri("/api/v1/files/" + encode(name) + "?replicas=" + replicas))
        .header("Authorization", "Bearer " + client.token())
        .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(), 201);
  }

  JsonObject getJson(String path, String token) {
    return send(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + token).GET().build(), 200);
  }

  private JsonObject send(HttpRequest request, int expected) {
    try {
      HttpResponse<String> res = http.send(request, HttpResponse.BodyHandlers.ofString());
      assertEquals(expected, res.statusCode(), request.method() + " " + request.uri() + ": " + res.body());
      return new JsonObject(res.body());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  int status(String path, String token) {
    try {
      return http.send(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + token).GET().build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  URI uri(String path) {
    return URI.create(base + path);
  }

  static String encode(String name) {
    return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
  }

  // ---- the CLI, in-process ----

  record CliResult(int code, String out, String err) {}

  CliResult cli(Path configDir, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Map<String, String> cliEnv = Map.of("DEPOT_SERVER", base, "DEPOT_CONFIG_DIR", configDir.toString());
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
         PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      int code = DepotCli.run(args, new CliContext(o, e, cliEnv, false));
      return new CliResult(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
  }

  /** A CLI configuration folder logged in as the client. */
  Path cliLogin(Client client) throws IOException {
    Path dir = Files.createDirectories(work.resolve("cli-" + client.nickname()));
    CliResult r = cli(dir, "login", "--client-id", client.clientId(), "--token", client.token());
    assertEquals(0, r.code(), "depot login: " + r.err());
    return dir;
  }

  // ---- the browser ----

  void startBrowser() throws IOException {
    System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-extensions", "--disable-default-apps", "--window-size=1440,1000",
        "--user-data-dir=" + Files.createDirectories(work.resolve("chromium-profile")));
    options.setExperimentalOption("prefs", Map.of("download.default_directory", downloads.toString(),
        "download.prompt_for_download", false, "safebrowsing.enabled", false));
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort()
        .withLogFile(work.resolve("chromedriver.log").toFile())
        .build();
    driver = new ChromeDriver(service, options);
    driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(20));
  }

  void open(String hash) {
    driver.get(base + "/" + hash);
  }

  /** Signs in through the form, waits for data and the live connection. */
  void signIn(String token) {
    open("");
    WebDriverWait wait = new WebDriverWait(driver, WAIT);
    wait.until(ExpectedConditions.elementToBeClickable(By.id("token-input"))).sendKeys(token);
    click(By.id("signin-button"));
    wait.until(d -> "true".equals(d.findElement(By.tagName("body")).getDomAttribute("data-signed-in")));
    waitForLive();
  }

  void waitForLive() {
    new WebDriverWait(driver, WAIT).until(d -> "open".equals(d.findElement(By.id("live-indicator")).getDomAttribute("data-state")));
  }

  void signOut() {
    click(By.id("signout-button"));
    new WebDriverWait(driver, WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("token-input")));
  }

  /** Clicks, looking the element up again if a re-render replaced it in between. */
  void click(By by) {
    waitFor("to click " + by, d -> {
      d.findElement(by).click();
      return true;
    });
  }

  void showView(String view) {
    click(By.cssSelector("#tabs a[data-view='" + view + "']"));
    new WebDriverWait(driver, WAIT).until(d -> view.equals(d.findElement(By.tagName("body")).getDomAttribute("data-view")));
  }

  Object js(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  <T> T waitFor(String what, java.util.function.Function<WebDriver, T> condition) {
    return waitFor(what, WAIT, condition);
  }

  <T> T waitFor(String what, Duration timeout, java.util.function.Function<WebDriver, T> condition) {
    // The page re-renders as data arrives: an element found a moment ago may be replaced; look again.
    return new WebDriverWait(driver, timeout).withMessage(what)
        .ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(condition);
  }

  void screenshot(String name) throws IOException {
    // Let transitions and the last refresh settle so the picture shows the finished page.
    try {
      Thread.sleep(400);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Files.write(screenshots.resolve(name + ".png"), driver.getScreenshotAs(OutputType.BYTES));
  }

  /** Fails on any SEVERE browser-console entry since the last call (errors, failed loads, uncaught exceptions). */
  void assertNoConsoleErrors(String when) {
    List<String> severe = new ArrayList<>();
    for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
      if (e.getLevel().intValue() >= Level.SEVERE.intValue()) {
        severe.add(e.getMessage());
      }
    }
    consoleErrors.addAll(severe);
    assertTrue(severe.isEmpty(), "browser console errors " + when + ": " + severe);
  }

  static void waitUntil(Duration timeout, BooleanSupplier condition, String message) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail(message + " within " + timeout.toSeconds() + " s");
      }
      Thread.sleep(250);
    }
  }

  @Override
  public void close() {
    if (driver != null) {
      try {
        driver.quit();
      } catch (RuntimeException e) {
        // the browser is gone already
      }
    }
    started.stream().filter(Process::isAlive).forEach(Process::destroyForcibly);
    if (cluster != null) {
      cluster.close();
    }
  }
}
