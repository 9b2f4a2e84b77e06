// swift-tools-version:6.0
import PackageDescription

// Built and tested on Linux; libssh2 and libpq come from the system (Debian's -dev packages, or
// Homebrew on a Mac). No two paths differ only in case, so the tree clones on a case-insensitive disk.
let package = Package(
    name: "botops",
    products: [
        .executable(name: "botops", targets: ["botops"]),
        .executable(name: "bot-engine", targets: ["bot-engine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"]), .brew(["libssh2"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        // The leaf: shell quoting, ShellScript, the section marker, terminal-safe text, time and number formatting.
        .target(name: "Basics"),
        .target(name: "Remote", dependencies: ["Basics", "CLibSSH2"]),
        // Cron schedules, crontab.d entries and crontab merging: pure, no host access.
        .target(name: "Cron", dependencies: ["Basics"]),
        // Remote steps as values: built through the one quoting function, run by any CommandRunner.
        .target(name: "HostCommands", dependencies: ["Basics", "Cron", "Remote"]),
        .target(name: "Checks", dependencies: ["Basics", "Remote", "HostCommands", "Cron"]),
        // What botops keeps on the host: the state directory, deploy lock, audit, releases, crontab backups.
        .target(name: "HostState", dependencies: ["Basics", "HostCommands", "Remote"]),
        .target(
            name: "BotOpsKit",
            dependencies: ["Basics", "HostState", "Remote", "Checks", "HostCommands", "Cron", .product(name: "Yams", package: "Yams")]
        ),
        .target(name: "Postgres", dependencies: ["CLibPQ"]),
        .target(name: "Engine", dependencies: ["Postgres"]),
        .executableTarget(
            name: "bot-engine",
            dependencies: ["Basics", "Engine", "Postgres", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "botops",
            dependencies: ["BotOpsKit", "Basics", "Checks", "Cron", "Remote", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "TransportBench", dependencies: ["BotOpsKit", "Remote"], path: "Benchmarks/TransportBench"),
        .executableTarget(name: "EngineBench", dependencies: ["Engine", "Postgres"], path: "Benchmarks/EngineBench"),
        .executableTarget(name: "BacktestBench", dependencies: ["Engine"], path: "Benchmarks/BacktestBench"),
        // Locates the sandbox host (scripts/sandbox) for the integration tests.
        .target(name: "SandboxSupport", dependencies: ["Remote", "Postgres"], path: "Tests/SandboxSupport"),
        // The helpers the pure cron tests and the sandbox ones share.
        .target(name: "CronTestSupport", dependencies: ["Cron", .product(name: "PropertyBased", package: "swift-property-based")], path: "Tests/CronTestSupport"),
        // Tests follow modules: a target of pure tests per module, run in parallel; the sandbox targets
        // (scripts/test's sandbox_targets: their tests change the shared sandbox host) hold only sandbox
        // tests and run one test at a time. RepositoryTests' TestPhasesTests keeps it so.
        .testTarget(name: "BasicsTests", dependencies: ["Basics"]),
        .testTarget(name: "HostStateTests", dependencies: ["Basics", "HostState", "SandboxSupport"], exclude: ["Golden"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "SandboxSupport"]),
        .testTarget(
            name: "EngineTests",
            dependencies: ["Engine", "bot-engine", "Postgres", "Remote", "SandboxSupport", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "BacktestTests", dependencies: ["Engine", "bot-engine", "Postgres", "Remote", "SandboxSupport"]),
        .testTarget(name: "RemoteTests", dependencies: ["Remote", "SandboxSupport", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(
            name: "BotOpsTests",
            dependencies: ["BotOpsKit", "botops", "bot-engine", "Checks", "HostCommands", "HostState", "Remote", "SandboxSupport", .product(name: "PropertyBased", package: "swift-property-based")],
            exclude: ["Golden"]
        ),
        .testTarget(
            name: "ChecksTests",
            dependencies: ["Basics", "Checks", "BotOpsKit", "HostCommands", "Remote", "SandboxSupport", .product(name: "PropertyBased", package: "swift-property-based")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "ChecksSandboxTests", dependencies: ["Checks", "BotOpsKit", "Remote", "SandboxSupport"]),
        .testTarget(
            name: "DeployTests",
            dependencies: ["botops", "BotOpsKit", "HostState", "HostCommands", "Checks", "Remote", "SandboxSupport", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "CronTests", dependencies: ["Cron", "CronTestSupport", "BotOpsKit", "Checks", "Remote", "SandboxSupport", "botops", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(
            name: "CronUnitTests",
            dependencies: ["Cron", "CronTestSupport", "BotOpsKit", "Checks", "Remote", "SandboxSupport", "botops", .product(name: "PropertyBased", package: "swift-property-based")],
            exclude: ["Golden"]
        ),
        // The sandbox host's own scripts (its daemons): changes the shared host.
        .testTarget(name: "SandboxHostTests", dependencies: ["Remote", "SandboxSupport"]),
        // The repository and its scripts: a tree that clones on a Mac, the sandbox lock and daemons.
        .testTarget(name: "RepositoryTests", dependencies: ["Remote", "SandboxSupport"]),
        .testTarget(name: "RecoverTests", dependencies: ["botops", "BotOpsKit", "Checks", "HostCommands", "Remote", "SandboxSupport"]),
        .testTarget(name: "BackupTests", dependencies: ["BotOpsKit", "botops", "Remote", "SandboxSupport", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "CLITests", dependencies: ["botops", "bot-engine", "Remote", "Postgres", "SandboxSupport"]),
    ]
)
