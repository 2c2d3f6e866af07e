package org.vnsearch.opensearch;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.http.HttpServerTransport;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * Starts one OpenSearch node in this JVM, for vnsearch's tests and benchmarks.
 *
 * <p>OpenSearch's own launcher (Bootstrap) wants a full distribution; this one builds the node
 * from the jars on the classpath, with two plugins: Netty (HTTP and transport) and
 * analysis-common (the tokenizers and filters of custom analyzers). Everything
 * a node keeps (data, logs, config) lives under --home. It prints {@code STARTED http://host:port}
 * once the node answers, and closes the node on SIGTERM.
 */
public final class NodeLauncher {

    /** Node's constructor that takes classpath plugins is protected. */
    static final class PluginNode extends Node {
        PluginNode(Environment environment, List<Class<? extends Plugin>> plugins) {
            super(environment, plugins, true);
        }
    }

    private static final String USAGE = String.join("\n",
        "usage: NodeLauncher --home DIR --http-port N --transport-port M",
        "                    [--cluster-name NAME] [--node-name NAME] [--processors N]",
        "                    [--seed-hosts 127.0.0.1:9300,...] [--initial-masters n1,n2,n3]",
        "                    [--setting key=value ...] [--stop-after-start]",
        "Without --seed-hosts the node is a single-node cluster (discovery.type=single-node).",
        "Port 0 picks a free port; the STARTED line tells which. --stop-after-start closes the",
        "node as soon as it has started (a training run for the JVM's class-data archive).");

    private NodeLauncher() {}

    public static void main(String[] args) throws Exception {
        // Before anything touches log4j: the node logs while it closes, in our shutdown hook.
        System.setProperty("log4j.shutdownHookEnabled", "false");
        System.setProperty("log4j2.disable.jmx", "true");
        // OpenSearch's logging turns System.out and System.err into loggers: keep the real ones.
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        Map<String, String> options;
        Settings.Builder extra = Settings.builder();
        try {
            options = parse(args, extra);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        Path home = Paths.get(options.get("home")).toAbsolutePath();
        String nodeName = options.getOrDefault("node-name", "node-1");

        Settings.Builder settings = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", options.getOrDefault("cluster-name", "vnsearch-test"))
            .put("node.name", nodeName)
            // Loopback only: OpenSearch stays in development mode, so the production bootstrap
            // checks (vm.max_map_count, file descriptors) do not apply.
            .put("network.host", "127.0.0.1")
            .put("http.port", options.get("http-port"))
            .put("transport.port", options.get("transport-port"))
            // Small thread pools: the test machine has 2 cores shared by several nodes.
            .put("node.processors", options.getOrDefault("processors", "1"))
            // A test machine's disk may be fuller than the production watermarks allow.
            .put("cluster.routing.allocation.disk.threshold_enabled", false);
        String seeds = options.get("seed-hosts");
        if (seeds == null) {
            settings.put("discovery.type", "single-node");
        } else {
            settings.putList("discovery.seed_hosts", Arrays.asList(seeds.split(",")));
            String masters = options.get("initial-masters");
            if (masters != null) {
                settings.putList("cluster.initial_cluster_manager_nodes", Arrays.asList(masters.split(",")));
            }
        }
        settings.put(extra.build());

        for (String dir : List.of("config", "data", "logs", "plugins", "modules")) {
            Files.createDirectories(home.resolve(dir));
        }
        installLogConfig(home.resolve("config"));

        Node node;
        try {
            Environment environment = InternalSettingsPreparer.prepareEnvironment(
                settings.build(), Collections.emptyMap(), home.resolve("config"), () -> nodeName);
            LogConfigurator.setNodeName(nodeName);
            LogConfigurator.configure(environment);
            // Fails, for example, when another node still holds the data directory's lock.
            node = new PluginNode(environment, List.of(Netty4Plugin.class, CommonAnalysisPlugin.class));
        } catch (Exception e) {
            die(stderr, e);
            return;
        }
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(30, TimeUnit.SECONDS);
            } catch (IOException | InterruptedException e) {
                stderr.println("error while closing the node: " + e);
            } finally {
                // log4j's own shutdown hook is disabled so that the node can log while closing.
                org.apache.logging.log4j.LogManager.shutdown();
                closed.countDown();
            }
        }, "vnsearch-node-shutdown"));

        try {
            node.start();
        } catch (Exception e) {
            die(stderr, e);
        }
        HttpServerTransport http = node.injector().getInstance(HttpServerTransport.class);
        stdout.println("STARTED http://" + http.boundAddress().publishAddress());
        stdout.flush();
        if (options.containsKey("stop-after-start")) {
            System.exit(0);  // runs the shutdown hook, which closes the node
        }
        closed.await();
    }

    /** Says why the node did not start, on the process's stderr and in the node's log; exits 1. */
    private static void die(PrintStream stderr, Exception e) {
        StringBuilder causes = new StringBuilder(e.toString());
        for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
            causes.append("\n  caused by: ").append(cause);
        }
        stderr.println("the node did not start: " + causes);
        stderr.flush();
        org.apache.logging.log4j.LogManager.getLogger(NodeLauncher.class).error("the node did not start", e);
        System.exit(1);  // runs the shutdown hook, if the node got as far as having one
    }

    /** Copies the bundled log4j2.properties into the node's config dir, where OpenSearch reads it. */
    private static void installLogConfig(Path configDir) throws IOException {
        try (InputStream in = NodeLauncher.class.getResourceAsStream("/log4j2.properties")) {
            if (in == null) {
                throw new IOException("log4j2.properties is missing from the launcher's jar");
            }
            Files.copy(in, configDir.resolve("log4j2.properties"), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static Map<String, String> parse(String[] args, Settings.Builder extra) {
        List<String> known = List.of("home", "http-port", "transport-port", "cluster-name", "node-name",
            "processors", "seed-hosts", "initial-masters");
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--stop-after-start")) {
                options.put("stop-after-start", "true");
                continue;
            }
            if (!arg.startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("unexpected argument: " + arg);
            }
            String name = arg.substring(2);
            String value = args[++i];
            if (name.equals("setting")) {
                int eq = value.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("--setting wants key=value, got: " + value);
                }
                extra.put(value.substring(0, eq), value.substring(eq + 1));
            } else if (known.contains(name)) {
                options.put(name, value);
            } else {
                throw new IllegalArgumentException("unknown option: " + arg);
            }
        }
        for (String required : List.of("home", "http-port", "transport-port")) {
            if (!options.containsKey(required)) {
                throw new IllegalArgumentException("--" + required + " is required");
            }
        }
        return options;
    }
}
