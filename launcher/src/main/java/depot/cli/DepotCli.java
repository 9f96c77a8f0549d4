package depot.cli;

import depot.cli.commands.BenchCommand;
import depot.cli.commands.DeleteCommand;
import depot.cli.commands.DepositCommand;
import depot.cli.commands.ListCommand;
import depot.cli.commands.LoginCommand;
import depot.cli.commands.NodesCommand;
import depot.cli.commands.StatusCommand;
import depot.cli.commands.AdminCommand;
import depot.cli.commands.ReplicasCommand;
import depot.cli.commands.RetrieveCommand;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.reflect.Constructor;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code depot} client command line. {@link #run(String[])} parses the arguments, runs one subcommand
 * and returns the process exit code: 0 on success, 1 when the command failed, 2 on a usage error. A failure
 * prints exactly one line, {@code depot: <message>}, on stderr.
 */
@Command(name = "depot", mixinStandardHelpOptions = true, versionProvider = DepotCli.Version.class,
    description = "Deposit, list and retrieve files on a replicated Depot cluster.",
    subcommands = {
        LoginCommand.class, DepositCommand.class, ListCommand.class, RetrieveCommand.class,
        DeleteCommand.class, ReplicasCommand.class, NodesCommand.class, StatusCommand.class, AdminCommand.class, BenchCommand.class,
        CommandLine.HelpCommand.class})
public final class DepotCli implements Callable<Integer> {
  public static final int EXIT_FAILURE = 1;
  public static final int EXIT_USAGE = 2;

  private final CliContext ctx;

  public DepotCli(CliContext ctx) {
    this.ctx = ctx;
  }

  public static int run(String[] args) {
    return run(args, CliContext.system());
  }

  public static int run(String[] args, CliContext ctx) {
    CommandLine cli = new CommandLine(new DepotCli(ctx), new ContextFactory(ctx));
    cli.setOut(new PrintWriter(ctx.out(), true));
    cli.setErr(new PrintWriter(ctx.err(), true));
    cli.setParameterExceptionHandler((ex, badArgs) -> {
      String command = ex.getCommandLine().getCommandSpec().qualifiedName();
      ctx.err().println("depot: " + oneLine(ex.getMessage()) + " (see `" + command + " --help`)");
      return EXIT_USAGE;
    });
    cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
      ctx.err().println("depot: " + describe(ex));
      return ex instanceof CliException c ? c.exitCode() : EXIT_FAILURE;
    });
    int code = cli.execute(args);
    ctx.out().flush();
    return code;
  }

  /** Plain {@code depot} without a subcommand. */
  @Override
  public Integer call() {
    ctx.err().println("depot: missing command (see `depot --help`)");
    return EXIT_USAGE;
  }

  /** One line for the user; library exceptions are translated where their own message is cryptic. */
  public static String describe(Throwable ex) {
    String message;
    if (ex instanceof CliException) {
      message = ex.getMessage();
    } else if (ex instanceof InterruptedException) {
      message = "interrupted";
    } else if (ex instanceof NoSuchFileException e) {
      message = "no such file or directory: " + e.getFile();
    } else if (ex instanceof AccessDeniedException e) {
      message = "permission denied: " + e.getFile();
    } else if (ex instanceof FileAlreadyExistsException e) {
      message = "file exists: " + e.getFile();
    } else if (ex instanceof IOException) {
      message = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
    } else {
      // A bug rather than a user error: keep the type, it is what a bug report needs.
      message = ex.getClass().getName() + (ex.getMessage() == null ? "" : ": " + ex.getMessage());
    }
    return oneLine(message);
  }

  private static String oneLine(String message) {
    return message == null ? "unknown error" : message.replaceAll("\\s*\\R\\s*", " ").strip();
  }

  /** Hands the {@link CliContext} to every command whose constructor asks for it. */
  private record ContextFactory(CliContext ctx) implements CommandLine.IFactory {
    @Override
    public <K> K create(Class<K> cls) throws Exception {
      try {
        Constructor<K> constructor = cls.getDeclaredConstructor(CliContext.class);
        return constructor.newInstance(ctx);
      } catch (NoSuchMethodException e) {
        return CommandLine.defaultFactory().create(cls);
      }
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = DepotCli.class.getPackage().getImplementationVersion();
      return new String[] {"depot " + (version == null ? "development build" : version)};
    }
  }
}
