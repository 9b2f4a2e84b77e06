import Engine
import Foundation
import SandboxSupport
import Testing

/// A strategy cannot read a bar after the current one: the only view it gets counts back with an
/// unsigned offset and has no absolute index. These compile strategies against the built Engine
/// module and check that look-ahead does not compile, while looking back does.
@Suite struct LookAheadTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The swiftc that built the tests, and the modules directory beside the test bundle.
    static var compiler: String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/swiftc" } + ["/opt/swift/usr/bin/swiftc"]
        return path.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var modules: String {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("Modules/Engine.swiftmodule").path
            if FileManager.default.fileExists(atPath: candidate) { return directory.appendingPathComponent("Modules").path }
            directory = directory.deletingLastPathComponent()
        }
        return ""
    }

    /// Compiles `body` as a strategy's `next`; returns the compiler's diagnostics, nil when it compiled.
    /// swiftc runs for seconds: it is awaited on a thread of its own, never on the cooperative pool.
    func compile(_ body: String) async throws -> String? {
        try await onOwnThread { Result { try Self.compileBlocking(body) } }.get()
    }

    static func compileBlocking(_ body: String) throws -> String? {
        let compiler = try #require(Self.compiler, "swiftc not found")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lookahead-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("Peek.swift")
        try """
            import Engine
            struct Peek: BacktestStrategy {
                var warmup: Int { 1 }
                mutating func next(_ bars: BarHistory) -> Signal {
                    \(body)
                }
            }
            """.write(to: source, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: compiler)
        // -emit-sil runs the diagnostic passes that reject a negative literal for an unsigned parameter.
        process.arguments = ["-emit-sil", "-o", "/dev/null", "-I", Self.modules, "-I", Self.packageRoot.appendingPathComponent("Sources/CLibPQ").path,
                             // libpq-fe.h, found through pkg-config by the package build: Debian's place for it.
                             "-Xcc", "-I/usr/include/postgresql", source.path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return process.terminationStatus == 0 ? nil : text
    }

    @Test func lookingBackCompiles() async throws {
        #expect(try await compile("return bars.close(1) < bars.close() ? .enter : .hold") == nil)
    }

    @Test func aNegativeOffsetDoesNotCompile() async throws {
        let errors = try #require(try await compile("return bars.close(-1) > bars.close() ? .enter : .hold"))
        #expect(errors.contains("negative integer '-1' overflows when stored into unsigned type 'UInt'"))
    }

    @Test func aComputedLaterOffsetDoesNotCompile() async throws {
        let errors = try #require(try await compile("let later = -1\n        return bars.high(later) > 0 ? .enter : .hold"))
        #expect(errors.contains("cannot convert value of type 'Int' to expected argument type 'UInt'"))
    }

    @Test func thereIsNoAbsoluteIndexToReachAhead() async throws {
        let errors = try #require(try await compile("return bars.close(at: bars.index + 1) > 0 ? .enter : .hold"))
        #expect(errors.contains("error:"))
    }

    @Test func readingBeforeTheFirstBarFailsLoudly() async {
        await #expect(processExitsWith: .failure) {
            struct TooFarBack: BacktestStrategy {
                var warmup: Int { 0 }
                mutating func next(_ bars: BarHistory) -> Signal { bars.close(5) > 0 ? .enter : .hold }
            }
            var strategy = TooFarBack()
            _ = Backtest.simulate(&strategy, bars: bars(flat(1, 3)), settings: SimulationSettings())
        }
    }
}
