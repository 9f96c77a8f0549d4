package depot.launcher;

import depot.cli.DepotCli;

import java.util.Arrays;

/**
 * The one jar's entry point: {@code dev} (a local cluster), {@code node} (one node through Vert.x's
 * application launcher), or a client command.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    // Before any Hazelcast class loads, so even its first warnings go through SLF4J.
    System.setProperty("hazelcast.logging.type", "slf4j");
    // With jdk.internal.misc exported (the jar's manifest), Netty and Vert.x allocate the heap copies of
    // received bytes without zeroing them first: a few percent of a deposit's CPU.
    System.setProperty("io.netty.tryReflectionSetAccessible", "true");
    if (args.length > 0 && args[0].equals("node")) {
      NodeLauncher.launch(Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    if (args.length > 0 && args[0].equals("dev")) {
      System.exit(DevCommand.run(Arrays.copyOfRange(args, 1, args.length)));
    }
    System.exit(DepotCli.run(args));
  }
}
