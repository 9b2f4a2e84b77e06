import Foundation
import Testing

/// The sources build on a Mac as well as on Linux (a Mac build is not run here): a file that
/// imports Glibc has its Darwin branch, and a Linux-only C call or path (SOCK_CLOEXEC, pipe2,
/// /proc/self, …) is only reached under a Linux condition, with the Darwin spelling beside it.
struct PlatformBranchTests {
    static let repositoryRoot = TestPhasesTests.repositoryRoot

    /// Calls and paths Darwin lacks. Paths under /proc inside the shell scripts botops sends to
    /// the host are not here: the host is Linux; only this machine's own `/proc/self` is.
    static let linuxOnly = ["SOCK_CLOEXEC", "pipe2", "botops_pipe_cloexec", "epoll_", "prctl", "sendfile", "accept4",
                            "MSG_NOSIGNAL", "ppoll", "statfs", "signalfd", "eventfd", "inotify_", "\"/proc/self"]

    /// Lines of `source` that use Glibc or a Linux-only name outside a Linux condition
    /// (`#if canImport(Glibc)`, `#if os(Linux)`, C's `#ifdef __linux__`; a negated one is none),
    /// whether the file has a `canImport(Darwin)` condition where it imports Glibc, and (with
    /// `requireElse`, for Swift: a declaration only under Linux leaves its callers without it on a
    /// Mac) a Linux branch using such a name that has no other branch beside it.
    static func problems(in source: String, requireElse: Bool = true) -> [String] {
        var problems: [String] = []
        // One entry per open #if: is the branch taken now a Linux one, has the #if another branch,
        // and the first line of its Linux branches using a Linux-only name.
        var open: [(linux: Bool, otherBranch: Bool, linuxOnlyUse: String?)] = []
        var darwinCondition = false
        for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
            let text = line.trimmingCharacters(in: .whitespaces)
            let isLinuxCondition = (text.contains("canImport(Glibc)") || text.contains("os(Linux)") || text.contains("__linux__"))
                && !text.contains("!") && !text.hasPrefix("#ifndef")
            if text.hasPrefix("#") && text.contains("canImport(Darwin)") { darwinCondition = true }
            if text.hasPrefix("#if") {
                open.append((isLinuxCondition, false, nil))
                continue
            }
            if text.hasPrefix("#elseif") || text.hasPrefix("#elif") || text.hasPrefix("#else") {
                if !open.isEmpty {
                    open[open.count - 1].linux = isLinuxCondition
                    open[open.count - 1].otherBranch = true
                }
                continue
            }
            if text.hasPrefix("#endif") {
                if let closed = open.popLast(), requireElse, !closed.otherBranch, let use = closed.linuxOnlyUse {
                    problems.append("only under a Linux condition, with no Darwin branch beside it: \(use)")
                }
                continue
            }
            if text.hasPrefix("//") { continue }
            let used = linuxOnly.filter { text.contains($0) } + (text.hasPrefix("import Glibc") ? ["import Glibc"] : [])
            guard !used.isEmpty else { continue }
            if let innermost = open.lastIndex(where: { $0.linux }) {
                if open[innermost].linuxOnlyUse == nil && !used.contains("import Glibc") { open[innermost].linuxOnlyUse = text }
            } else {
                problems.append("\(used.joined(separator: ", ")) outside a Linux condition: \(text)")
            }
        }
        if source.contains("import Glibc") && !darwinCondition {
            problems.append("imports Glibc without a canImport(Darwin) branch")
        }
        return problems
    }

    /// The Swift and C files under Sources, as repository paths.
    static func sourceFiles() -> [String] {
        let sources = repositoryRoot.appendingPathComponent("Sources")
        let walker = FileManager.default.enumerator(atPath: sources.path)
        return (walker?.compactMap { $0 as? String } ?? [])
            .filter { path in [".swift", ".h", ".c"].contains { path.hasSuffix($0) } }.map { "Sources/\($0)" }.sorted()
    }

    @Test func everyLinuxOnlyCallHasItsDarwinBranch() throws {
        let files = Self.sourceFiles()
        #expect(files.count > 50, "read only \(files.count) source files")
        var glibcFiles = 0
        for file in files {
            let source = try String(contentsOf: Self.repositoryRoot.appendingPathComponent(file), encoding: .utf8)
            if source.contains("import Glibc") { glibcFiles += 1 }
            for problem in Self.problems(in: source, requireElse: file.hasSuffix(".swift")) {
                Issue.record("\(file): \(problem): give it a `#if canImport(Glibc) … #elseif canImport(Darwin)` branch (the Mac build needs one)")
            }
        }
        #expect(glibcFiles > 5, "found only \(glibcFiles) files importing Glibc")
    }

    /// The checker itself: each way a file can miss its Darwin branch is found.
    @Test func theCheckerFindsAMissingDarwinBranch() {
        let guarded = """
            #if canImport(Glibc)
            import Glibc
            #elseif canImport(Darwin)
            import Darwin
            #endif
            func open() -> Int32 {
                #if canImport(Glibc)
                return socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                #else
                return socket(AF_INET, SOCK_STREAM, 0)
                #endif
            }
            """
        #expect(Self.problems(in: guarded).isEmpty, "\(Self.problems(in: guarded))")
        #expect(Self.problems(in: "import Glibc\nlet x = 1\n").count == 2)
        #expect(Self.problems(in: "#if canImport(Glibc)\nimport Glibc\n#endif\n") == ["imports Glibc without a canImport(Darwin) branch"])
        let unguarded = guarded.replacingOccurrences(of: "return socket(AF_INET, SOCK_STREAM, 0)", with: "return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)")
        #expect(Self.problems(in: unguarded).count == 1)
        #expect(Self.problems(in: "let exe = URL(fileURLWithPath: \"/proc/self/exe\")\n").count == 1)
        #expect(Self.problems(in: "#if os(Linux)\nlet exe = \"/proc/self/exe\"\n#else\nlet exe = CommandLine.arguments[0]\n#endif\n").isEmpty)
        #expect(Self.problems(in: "#ifdef __linux__\nint p(int f[2]) { return pipe2(f, O_CLOEXEC); }\n#endif\n", requireElse: false).isEmpty)
        #expect(Self.problems(in: "int p(int f[2]) { return pipe2(f, O_CLOEXEC); }\n", requireElse: false).count == 1)
        // A negated condition is no Linux one.
        #expect(Self.problems(in: "#if !os(Linux)\nlet flag = SOCK_CLOEXEC\n#endif\n").count == 1)
        #expect(Self.problems(in: "#ifndef __linux__\nint p(int f[2]) { return pipe2(f, O_CLOEXEC); }\n#endif\n", requireElse: false).count == 1)
        // The Darwin branch is a condition, not a comment naming one.
        #expect(Self.problems(in: "#if canImport(Glibc)\nimport Glibc\n#endif\n// no canImport(Darwin) branch: Foundation brings it\n")
                == ["imports Glibc without a canImport(Darwin) branch"])
        // A Swift declaration only under Linux leaves its callers (in any file) without it on a Mac.
        #expect(Self.problems(in: "#if os(Linux)\nfunc cloexecPipe(_ f: inout [Int32]) -> Int32 { pipe2(&f, 0) }\n#endif\n").count == 1)
    }
}
