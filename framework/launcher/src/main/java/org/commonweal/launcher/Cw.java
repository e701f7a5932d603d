package org.commonweal.launcher;

import java.nio.file.Path;

import org.commonweal.repo.RepositoryException;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code cw}: Commonweal's one command line. The bash script {@code ./cw} finds a JDK 25, builds what
 * is missing, and hands over to this class with the runtime's JVM flags.
 */
@Command(name = "cw", mixinStandardHelpOptions = true, versionProvider = Cw.Version.class,
        description = "Commonweal: node software for a public, useful-work intelligent internet.",
        subcommands = { NodeCommand.class, DemoCommand.class, ChainCommands.Tx.class, ChainCommands.AccountCommand.class,
                BenefitCommands.Benefit.class, RepoCommand.class,
                AssembleCommand.class, ExplainCommand.class, UpgradeCommands.Upgrade.class, UpgradeCommands.Rollback.class,
                UpgradeCommands.Config.class,
                BenchCommand.class, AdapterCommand.class,
                CommandLine.HelpCommand.class })
public final class Cw {

    /** The system property ./cw sets to the checkout (or installation) folder. */
    static final String HOME_PROPERTY = "commonweal.home";

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new Cw());
        commandLine.setExecutionExceptionHandler((exception, line, parseResult) -> {
            if (exception instanceof LaunchException || exception instanceof RepositoryException) {
                line.getErr().println("error: " + exception.getMessage());
                return 1;
            }
            throw exception;
        });
        return commandLine;
    }

    /** The folder distributions are looked up in: -Dcommonweal.home, else the working directory. */
    static Path home() {
        return Path.of(System.getProperty(HOME_PROPERTY, "."));
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Cw.class.getPackage().getImplementationVersion();
            return new String[] { "cw " + (version == null ? "(development build)" : version) + ", Java "
                    + Runtime.version() };
        }
    }
}
