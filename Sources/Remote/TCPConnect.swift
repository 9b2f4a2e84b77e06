#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens a TCP connection with a deadline, turning each failure into a distinct, named error.
enum TCPConnect {
    static func open(host: String, port: Int, timeoutSeconds: Double) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = streamSocketType
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw RemoteError.hostNotFound(host: host, detail: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }

        var lastError = RemoteError.networkError(host: host, port: port, detail: "no usable address")
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry?.pointee {
            entry = address.ai_next
            do {
                return try connect(address, host: host, port: port, timeoutSeconds: timeoutSeconds)
            } catch let error as RemoteError {
                lastError = error
            }
        }
        throw lastError
    }

    private static func connect(_ address: addrinfo, host: String, port: Int, timeoutSeconds: Double) throws -> Int32 {
        let fd = closeOnExecSocket(family: address.ai_family, type: address.ai_socktype, protocol: address.ai_protocol)
        guard fd >= 0 else { throw RemoteError.networkError(host: host, port: port, detail: errnoText()) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var noDelay: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))

        if connectSocket(fd, address.ai_addr, address.ai_addrlen) != 0 && errno != EINPROGRESS {
            let code = errno
            close(fd)
            throw error(for: code, host: host, port: port, timeoutSeconds: timeoutSeconds)
        }
        var pollFD = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let ready = poll(&pollFD, 1, Int32(timeoutSeconds * 1000))
        if ready == 0 {
            close(fd)
            throw RemoteError.connectTimedOut(host: host, port: port, seconds: timeoutSeconds)
        }
        var socketError: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &length)
        if ready < 0 || socketError != 0 {
            close(fd)
            throw error(for: ready < 0 ? errno : socketError, host: host, port: port, timeoutSeconds: timeoutSeconds)
        }
        return fd
    }

    private static func error(for code: Int32, host: String, port: Int, timeoutSeconds: Double) -> RemoteError {
        switch code {
        case ECONNREFUSED: return .connectionRefused(host: host, port: port)
        case ETIMEDOUT: return .connectTimedOut(host: host, port: port, seconds: timeoutSeconds)
        default: return .networkError(host: host, port: port, detail: String(cString: strerror(code)))
        }
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }
