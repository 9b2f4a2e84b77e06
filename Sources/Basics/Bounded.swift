import Foundation

/// Waits for `operation` at most `limit`: its value, or nil when the limit came first (the
/// operation is cancelled and left to end on its own). Unlike a task group, this never waits for
/// a child that ignores cancellation (awaiting another task's value does).
public func bounded<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async -> T) async -> T? {
    let (stream, continuation) = AsyncStream.makeStream(of: T?.self)
    let work = Task {
        continuation.yield(await operation())
        continuation.finish()
    }
    let timer = Task {
        try? await Task.sleep(for: limit)
        continuation.yield(nil)
        continuation.finish()
    }
    var first: T?? = nil
    for await value in stream {
        first = value
        break
    }
    timer.cancel()
    if first == nil || first! == nil { work.cancel() }
    return first ?? nil
}
