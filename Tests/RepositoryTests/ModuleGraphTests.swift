import Foundation
import Testing

/// The module graph of Sources/: which module may import which, and why. Written once, here (the
/// README's Layout section draws it). A module importing one it may not, a module missing from
/// the graph, or a Package.swift dependency list that differs from what the sources import fails.
///
/// Re-exports (`@_exported import`: Remote and HostCommands re-export Basics, BotOpsKit re-exports
/// Basics and HostState) let a module use what an allowed module re-exports without importing it:
/// botops reaches HostState through BotOpsKit. That is accepted: a re-export only hands down what
/// the re-exporting module may import itself, so what a module can reach stays within the graph's
/// transitive closure, and the layering held here (HostState and Checks never see BotOpsKit or
/// each other, Cron never the transport, the ops side never Engine) still fails on a direct import.
/// What the graph does not hold is the direct edge: a module listed without HostState may still
/// use it through BotOpsKit.
struct ModuleGraphTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Module → the first-party modules and packages it may import, and why.
    static let allowed: [String: (imports: Set<String>, why: String)] = [
        "Basics": ([], "the leaf everyone may use: quoting, ShellScript, section marker, terminal-safe text, formatting, exit codes"),
        "CLibSSH2": ([], "system library shim"),
        "CLibPQ": ([], "system library shim"),
        "Remote": (["Basics", "CLibSSH2"], "the transport: libssh2 and the local host, nothing of botops' own"),
        "Cron": (["Basics"], "pure schedule math and crontab merging: no host access, so no transport"),
        "HostCommands": (["Basics", "Cron", "Remote"], "remote steps as values, run by Remote's CommandRunner; the host probes, including the cron zone probe that yields Cron's CronHostTime"),
        "HostState": (["Basics", "HostCommands", "Remote"],
                      "what botops keeps on the host (lock, audit, releases, crontab backups), written through a CommandRunner; never checks, deploy or config, so they can all use it"),
        "Checks": (["Basics", "Cron", "HostCommands", "Remote"], "the nine checks read the host through a CommandRunner; they know nothing of deploy or the lock"),
        "BotOpsKit": (["Basics", "Checks", "Cron", "HostCommands", "HostState", "Remote", "Yams"], "config and the commands' use cases, on top of everything ops-side"),
        "botops": (["ArgumentParser", "Basics", "BotOpsKit", "Checks", "Cron", "Remote"], "the executable: argument parsing over BotOpsKit"),
        "Postgres": (["CLibPQ"], "the libpq wrapper"),
        "Engine": (["Postgres"], "the trading ledger: independent of the ops side, which never sees it"),
        "bot-engine": (["ArgumentParser", "Basics", "Engine", "Postgres"], "the engine's executable (Basics: it sanitizes closed standard descriptors first, as botops does)"),
    ]

    /// Packages' products; any other module name not in Sources is the system's (Foundation, Glibc…).
    static let packageProducts: Set<String> = ["ArgumentParser", "Yams", "PropertyBased"]

    struct Violation: CustomStringConvertible, Equatable {
        var file: String
        var imported: String
        var module: String
        var description: String { "\(file) imports \(imported), which \(module) may not import" }
    }

    /// The modules a Swift source imports (`import X`, `@_exported import X`, `import struct X.Y`,
    /// `public import X`, `import X;`). One under `#if canImport(X)` counts: it is compiled
    /// whenever X can be imported, which for a module of this package is always.
    static func imports(in source: String) -> Set<String> {
        var found: Set<String> = []
        let modifiers: Set<String> = ["public", "package", "internal", "fileprivate", "private"]
        for line in source.split(separator: "\n") {
            var words = line.split(whereSeparator: { $0.isWhitespace || $0 == ";" }).map(String.init)
            while let first = words.first, first.hasPrefix("@") || modifiers.contains(first) { words.removeFirst() }
            guard words.first == "import", words.count >= 2 else { continue }
            let kinds: Set<String> = ["struct", "class", "enum", "protocol", "func", "var", "let", "typealias"]
            let path = kinds.contains(words[1]) && words.count >= 3 ? words[2] : words[1]
            if let module = path.split(separator: ".").first { found.insert(String(module)) }
        }
        return found
    }

    /// The imports of `module`'s files that the graph forbids; `files` maps a path to its text.
    static func violations(module: String, files: [String: String], firstParty: Set<String>) -> [Violation] {
        let permitted = allowed[module]?.imports ?? []
        return files.sorted { $0.key < $1.key }.flatMap { path, text in
            imports(in: text).sorted().filter { $0 != module && firstParty.contains($0) && !permitted.contains($0) }
                .map { Violation(file: path, imported: $0, module: module) }
        }
    }

    static func sourceModules() throws -> [String: [String: String]] {
        let sources = repositoryRoot.appendingPathComponent("Sources")
        var modules: [String: [String: String]] = [:]
        for module in try FileManager.default.contentsOfDirectory(atPath: sources.path) where !module.hasPrefix(".") {
            var files: [String: String] = [:]
            let directory = sources.appendingPathComponent(module)
            let walker = FileManager.default.enumerator(atPath: directory.path)
            while let relative = walker?.nextObject() as? String {
                guard relative.hasSuffix(".swift") else { continue }
                files["Sources/\(module)/\(relative)"] = try String(contentsOf: directory.appendingPathComponent(relative), encoding: .utf8)
            }
            modules[module] = files
        }
        return modules
    }

    /// Package.swift's targets whose sources are Sources/<name>, with their declared dependencies
    /// (targets and products by name).
    static func declaredDependencies(_ manifest: String) -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        let pieces = manifest.components(separatedBy: ".target(") .dropFirst().map { ("target", $0) }
            + manifest.components(separatedBy: ".executableTarget(").dropFirst().map { ("executable", $0) }
        for (_, piece) in pieces {
            // Up to the call's closing parenthesis.
            var depth = 1
            var end = piece.startIndex
            for index in piece.indices {
                if piece[index] == "(" { depth += 1 }
                if piece[index] == ")" { depth -= 1 }
                if depth == 0 { end = index; break }
            }
            let call = String(piece[..<end])
            guard !call.contains("path:"), let name = quoted(in: call).first else { continue }
            var dependencies: Set<String> = []
            if let list = call.range(of: "dependencies: [") {
                var inner = String(call[list.upperBound...])
                if let close = inner.lastIndex(of: "]") { inner = String(inner[..<close]) }
                // `.product(name: "Yams", package: "Yams")`: the product's name, not the package's.
                inner = inner.replacingOccurrences(of: #"package: "[^"]*""#, with: "", options: .regularExpression)
                dependencies = Set(quoted(in: inner))
            }
            result[name] = dependencies
        }
        return result
    }

    static func quoted(in text: String) -> [String] {
        text.split(separator: "\"", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    @Test func everyModuleImportsOnlyWhatTheGraphAllows() throws {
        let modules = try Self.sourceModules()
        let firstParty = Set(modules.keys).union(Self.packageProducts)
        #expect(Set(modules.keys).subtracting(Self.allowed.keys).isEmpty,
                "modules missing from the graph in ModuleGraphTests.allowed: \(Set(modules.keys).subtracting(Self.allowed.keys).sorted())")
        let violations = modules.keys.sorted().flatMap { Self.violations(module: $0, files: modules[$0]!, firstParty: firstParty) }
        #expect(violations.isEmpty, "\(violations.map { "\($0) (\($0.module): \(Self.allowed[$0.module]?.why ?? "not in the graph"))" }.joined(separator: "\n"))")
    }

    @Test func packageDependenciesAreWhatTheSourcesImport() throws {
        let modules = try Self.sourceModules()
        let firstParty = Set(modules.keys).union(Self.packageProducts)
        let manifest = try String(contentsOf: Self.repositoryRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
        let declared = Self.declaredDependencies(manifest)
        for (module, files) in modules where !files.isEmpty {
            let imported = files.values.reduce(into: Set<String>()) { $0.formUnion(Self.imports(in: $1)) }
                .intersection(firstParty).subtracting([module])
            #expect(declared[module] == imported, "Package.swift gives \(module) the dependencies \(declared[module]?.sorted() ?? []), its sources import \(imported.sorted())")
        }
    }

    /// The checker itself: a forbidden import is reported, a permitted or system one is not.
    @Test func aForbiddenImportIsReported() {
        let files = ["Sources/HostState/Lock.swift": "import Foundation\n@testable import Checks\nimport Basics\n",
                     "Sources/HostState/Other.swift": "import struct BotOpsKit.BotOpsConfig\n",
                     // Swift 6's access-level imports, and one behind a condition: still imports.
                     "Sources/HostState/Access.swift": "@preconcurrency public import Cron\ninternal import Checks;\n",
                     "Sources/HostState/Maybe.swift": "#if canImport(Engine)\n    package import Engine // when built with it\n#endif\n"]
        let found = Self.violations(module: "HostState", files: files, firstParty: ["Basics", "BotOpsKit", "Checks", "Cron", "Engine", "HostState", "Remote"])
        #expect(found == [Violation(file: "Sources/HostState/Access.swift", imported: "Checks", module: "HostState"),
                          Violation(file: "Sources/HostState/Access.swift", imported: "Cron", module: "HostState"),
                          Violation(file: "Sources/HostState/Lock.swift", imported: "Checks", module: "HostState"),
                          Violation(file: "Sources/HostState/Maybe.swift", imported: "Engine", module: "HostState"),
                          Violation(file: "Sources/HostState/Other.swift", imported: "BotOpsKit", module: "HostState")])
    }

    @Test func theManifestParserReadsTargetsAndProducts() {
        let manifest = """
            .target(name: "Cron", dependencies: ["Basics"]),
            .target(
                name: "BotOpsKit",
                dependencies: ["Basics", .product(name: "Yams", package: "YamsPackage")]
            ),
            .executableTarget(name: "Bench", dependencies: ["BotOpsKit"], path: "Benchmarks/Bench"),
            .target(name: "Basics"),
            """
        #expect(Self.declaredDependencies(manifest) == ["Cron": ["Basics"], "BotOpsKit": ["Basics", "Yams"], "Basics": []])
    }
}
