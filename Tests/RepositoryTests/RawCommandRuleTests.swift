import Foundation
import Testing

/// No code sends the host a raw command string but the places named here: every other remote
/// step is a `RemoteCommand` value (a probe or an action), built from `ShellScript`s that quote
/// by construction. A raw send is a call of the transport's string API: `stream(…)`,
/// `runStreaming(…)`, `download(…)`, or `run(…)` given a string literal, a script's `.text` or a
/// `timeout:` (a `RemoteCommand` carries its own). FIXME: a `String` variable handed to
/// `run(x)` without `timeout:` is not seen (the scan has no types). Comments and string literals are blanked
/// before the scan, so neither hides nor fakes a call.
struct RawCommandRuleTests {
    /// The files allowed to send raw strings, each with why.
    static let allowed: [String: String] = [
        "Sources/HostCommands/RemoteCommand.swift": "the one place a RemoteCommand value meets the transport",
        "Sources/Remote/CommandResult.swift": "the transport's own run(String), over stream",
        "Sources/Remote/FileDownload.swift": "the transport's download, over stream",
        "Sources/Remote/Upload.swift": "the transport's file copy: its script, below HostCommands",
        "Sources/botops/Ping.swift": "ping's round trip, `true`",
        "Sources/botops/Exec.swift": "exec runs the operator's own command line",
        "Sources/BotOpsKit/Deploy/StepRunner.swift": "the runner playbook steps (their `run:` commands) go through: it wraps and forwards",
        "Sources/HostState/DeployLock.swift": "the lock's holder, a RemoteCommand's script streamed for the deploy's whole life (no timeout)",
        "Sources/BotOpsKit/Backup/BackupDownload.swift": "a ShellScript's text handed to the transport's download (a streamed file, not a command result)",
    ]

    @Test func noRawCommandStringIsSentOutsideTheNamedPlaces() throws {
        var found: [String: [String]] = [:]
        for (path, text) in try HostProbeRuleTests.sources() {
            let calls = Self.rawSends(in: text)
            if !calls.isEmpty { found[path] = calls }
        }
        let outside = found.filter { Self.allowed[$0.key] == nil }
        #expect(outside.isEmpty, "raw command strings sent (make each a RemoteCommand value, a probe or an action): \(outside)")
        // An exception that no longer sends raw strings leaves the list.
        #expect(Set(found.keys).isSuperset(of: Self.allowed.keys), "allowed but sending none: \(Set(Self.allowed.keys).subtracting(found.keys).sorted())")
    }

    /// The rule sees the spellings a raw send would use, and nothing in comments, strings or
    /// calls that pass a value.
    @Test func theRuleSeesEverySpelling() {
        let raw = [
            #"_ = try await runner.run("cd && mv a b", timeout: .seconds(30))"#,
            #"let r = try await host.run("true")"#,
            "let r = try await host.run(\n    \"\"\"\n    echo hi\n    \"\"\")",
            ##"let r = try await host.run(#"echo "x""#)"##,
            #"let r = try await runner.run(script.text)"#,
            #"let r = try await runner.run(Self.pruneScript(keep: keep), timeout: .seconds(30))"#,
            #"try await inner.stream(line, timeout: nil, input: .none) { _, _ in }"#,
            #"try await runner.runStreaming(command.script.text, timeout: nil) { _, _ in }"#,
            #"try await runner.download(cat.text, to: path, sha256: nil, size: nil, timeout: nil)"#,
            #"let r = try await runner.run(command.script.description)"#,
            #"let r = try await runner.run(String(describing: script))"#,
            #"let r = try await runner.run (script.text)"#,
            "let r = try await runner.run\n    (\"true\")",
        ]
        for text in raw { #expect(Self.rawSends(in: text).count == 1, "\(text)") }
        let values = [
            #"// let r = try await host.run("true")"#,
            "/* try await host.run(\"true\") /* nested */ host.run(\"x\") */ let a = 1",
            #"let s = "try await host.run(\"true\")""#,
            #"let s = "\(x ? "a" : "b") runner.run(\"x\", timeout: t)""#,
            #"let r = try await runner.run(command)"#,
            #"let r = try await runner.run(RemoteCommand("true", timeout: .seconds(1))).result"#,
            #"let r = try await runner.run(InstallCommands.moveIntoPlace(path), input: .none)"#,
            #"let f = try await probe.run(on: runner)"#,
            #"try await Upload(localPath: a, remotePath: b).run(on: runner, timeout: timeout)"#,
            #"func stream(_ command: String, timeout: Duration?, input: CommandInput, onOutput: @escaping OutputHandler) async throws -> Termination"#,
            #"public func run(_ command: String, timeout: Duration? = nil) async throws -> CommandResult"#,
        ]
        for text in values { #expect(Self.rawSends(in: text).isEmpty, "\(text)") }
    }

    /// Each raw send in `source`, as `line N: call`.
    static func rawSends(in source: String) -> [String] {
        let code = Array(blanked(source).utf8)
        var sends: [String] = []
        var index = 0
        while index < code.count {
            guard let (name, open) = call(in: code, at: index) else { index += 1; continue }
            let arguments = topLevelArguments(code, open: open)
            if isRaw(name, arguments) {
                let line = code[..<index].filter { $0 == UInt8(ascii: "\n") }.count + 1
                sends.append("line \(line): \(name)(")
            }
            index = open + 1
        }
        return sends
    }

    static let names = ["run", "stream", "runStreaming", "download"].map { ($0, Array($0.utf8)) }

    /// A call of one of `names` starting at `index` (not a declaration, not part of a longer
    /// name), with the index of its `(`.
    static func call(in code: [UInt8], at index: Int) -> (String, Int)? {
        if index > 0, isIdentifier(code[index - 1]) { return nil }
        for (name, bytes) in names where code[index] == bytes[0] {
            var end = index + bytes.count
            guard end < code.count, code[index..<end].elementsEqual(bytes) else { continue }
            // Swift lets whitespace, a line break too, stand between a name and its `(`.
            while end < code.count, code[end] == UInt8(ascii: " ") || code[end] == UInt8(ascii: "\n") || code[end] == UInt8(ascii: "\t") { end += 1 }
            guard end < code.count, code[end] == UInt8(ascii: "(") else { continue }
            let before = String(decoding: code[max(0, index - 5)..<index], as: UTF8.self)
            if before.hasSuffix("func ") { return nil }
            return (name, end)
        }
        return nil
    }

    static func isIdentifier(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "_")
    }

    /// The call's arguments at its own depth, trimmed.
    static func topLevelArguments(_ code: [UInt8], open: Int) -> [String] {
        var depth = 0
        var arguments: [String] = []
        var current: [UInt8] = []
        var index = open
        while index < code.count {
            let byte = code[index]
            switch byte {
            case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > 1 { current.append(byte) }
            case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 {
                    arguments.append(String(decoding: current, as: UTF8.self))
                    return arguments.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
                }
                current.append(byte)
            case UInt8(ascii: ",") where depth == 1:
                arguments.append(String(decoding: current, as: UTF8.self))
                current = []
            default:
                current.append(byte)
            }
            index += 1
        }
        return []
    }

    /// Whether these arguments send a string: the string API's calls always do; `run` when it
    /// gets a literal, a `.text` or a `timeout:`.
    static func isRaw(_ name: String, _ arguments: [String]) -> Bool {
        guard let first = arguments.first, !isLabelled(first) else { return false }
        if name != "run" { return true }
        return first.hasPrefix("\"") || first.hasPrefix("#") || first.hasSuffix(".text") || first.hasSuffix(".description")
            || first.hasPrefix("String(") || arguments.dropFirst().contains { $0.hasPrefix("timeout:") }
    }

    /// `label: value` (an identifier then a colon; `?:` and `::` are not Swift).
    static func isLabelled(_ argument: String) -> Bool {
        guard let colon = argument.firstIndex(of: ":") else { return false }
        let label = argument[..<colon]
        return !label.isEmpty && label.utf8.allSatisfy(isIdentifier)
    }

    /// `source` with every comment and the inside of every string literal (interpolations too)
    /// made spaces; line breaks and the quotes stay, so lines count as before.
    static func blanked(_ source: String) -> String {
        var scanner = Scanner(Array(source.utf8))
        scanner.code(untilClosingParenthesis: false)
        return String(decoding: scanner.output, as: UTF8.self)
    }

    struct Scanner {
        let input: [UInt8]
        var output: [UInt8] = []
        var index = 0

        init(_ input: [UInt8]) {
            self.input = input
            output.reserveCapacity(input.count)
        }

        func peek(_ offset: Int = 0) -> UInt8? { index + offset < input.count ? input[index + offset] : nil }
        func starts(_ text: String) -> Bool { starts(Array(text.utf8)) }
        func starts(_ bytes: [UInt8]) -> Bool {
            guard index + bytes.count <= input.count else { return false }
            for offset in bytes.indices where input[index + offset] != bytes[offset] { return false }
            return true
        }

        mutating func keep() { output.append(input[index]); index += 1 }
        mutating func blank() { output.append(input[index] == UInt8(ascii: "\n") ? input[index] : UInt8(ascii: " ")); index += 1 }

        /// Code, up to the end or (inside an interpolation) the `)` that closes it.
        mutating func code(untilClosingParenthesis: Bool) {
            var depth = 0
            while index < input.count {
                let byte = input[index]
                if byte == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "/") {
                    while index < input.count, input[index] != UInt8(ascii: "\n") { blank() }
                } else if byte == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "*") {
                    blockComment()
                } else if input[index] == UInt8(ascii: "#") || input[index] == UInt8(ascii: "\"") {
                    var hashes = 0
                    while peek(hashes) == UInt8(ascii: "#") { hashes += 1 }
                    if peek(hashes) == UInt8(ascii: "\"") { string(hashes: hashes) } else { keep() }
                } else if input[index] == UInt8(ascii: "(") {
                    depth += 1
                    keep()
                } else if input[index] == UInt8(ascii: ")") {
                    if untilClosingParenthesis, depth == 0 { return }
                    depth -= 1
                    keep()
                } else {
                    keep()
                }
            }
        }

        mutating func blockComment() {
            var depth = 0
            while index < input.count {
                if starts("/*") { depth += 1; blank(); blank() } else if starts("*/") {
                    depth -= 1; blank(); blank()
                    if depth == 0 { return }
                } else { blank() }
            }
        }

        /// A string literal with `hashes` `#`s, its quotes kept and its inside blanked.
        mutating func string(hashes: Int) {
            for _ in 0..<hashes { keep() }
            let multiline = starts("\"\"\"")
            let quote = multiline ? "\"\"\"" : "\""
            for _ in 0..<quote.count { keep() }
            let close = Array((quote + String(repeating: "#", count: hashes)).utf8)
            let escape = Array(("\\" + String(repeating: "#", count: hashes)).utf8)
            while index < input.count {
                if starts(close) {
                    for _ in 0..<close.count { keep() }
                    return
                }
                if starts(escape) {
                    for _ in 0..<escape.count { blank() }
                    if peek() == UInt8(ascii: "(") {
                        blank()
                        var inner = Scanner(input)
                        inner.index = index
                        inner.code(untilClosingParenthesis: true)
                        output += inner.output.map { $0 == UInt8(ascii: "\n") ? $0 : UInt8(ascii: " ") }
                        index = inner.index
                        if index < input.count { blank() }
                    } else if index < input.count {
                        blank()
                    }
                    continue
                }
                blank()
            }
        }
    }
}
