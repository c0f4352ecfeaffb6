//! FFmpeg's muxers (libavformat), loaded the first time a muxer is made.
//!
//! Only the server's recordings (MP4, HLS's MPEG-TS) mux, yet a process linked to libavformat
//! maps it and the ~40 libraries it pulls in (TLS, SSH, SRT, XML, ZeroMQ, tracker formats) at
//! start: about 9 MiB of resident memory in every pusher and player that never records. So
//! onair calls libavformat through the handful of function pointers below, resolved with
//! `dlopen` on first use; the linker's `--as-needed` then leaves libavformat out of the
//! binary's needed libraries (`crates/onair-cli/tests/cli.rs` checks this with `readelf`; recording tests cover the muxers).
//!
//! The library loaded is the one the bindings were generated for
//! (`libavformat.so.<LIBAVFORMAT_VERSION_MAJOR>`), so the structures agree. Packets, codec
//! parameters and dictionaries stay with libavcodec and libavutil, which are linked as usual.

use crate::error::{CodecError, CodecResult};
use ff::ffi::{AVDictionary, AVFormatContext, AVIOContext, AVOutputFormat, AVPacket, AVStream};
use ffmpeg_next as ff;
use std::ffi::{c_char, c_int, CString};
use std::path::Path;
use std::sync::OnceLock;

/// The libavformat entry points onair uses.
struct Avformat {
    alloc_output_context2: unsafe extern "C" fn(
        *mut *mut AVFormatContext,
        *const AVOutputFormat,
        *const c_char,
        *const c_char,
    ) -> c_int,
    new_stream:
        unsafe extern "C" fn(*mut AVFormatContext, *const ff::ffi::AVCodec) -> *mut AVStream,
    free_context: unsafe extern "C" fn(*mut AVFormatContext),
    write_header: unsafe extern "C" fn(*mut AVFormatContext, *mut *mut AVDictionary) -> c_int,
    write_frame: unsafe extern "C" fn(*mut AVFormatContext, *mut AVPacket) -> c_int,
    interleaved_write_frame: unsafe extern "C" fn(*mut AVFormatContext, *mut AVPacket) -> c_int,
    write_trailer: unsafe extern "C" fn(*mut AVFormatContext) -> c_int,
    avio_open: unsafe extern "C" fn(*mut *mut AVIOContext, *const c_char, c_int) -> c_int,
    avio_closep: unsafe extern "C" fn(*mut *mut AVIOContext) -> c_int,
    avio_open_dyn_buf: unsafe extern "C" fn(*mut *mut AVIOContext) -> c_int,
    avio_close_dyn_buf: unsafe extern "C" fn(*mut AVIOContext, *mut *mut u8) -> c_int,
    /// Keeps the library mapped for the process's life (the pointers above point into it).
    _library: libloading::Library,
}

/// The file name `dlopen` looks for: the soname the bindings were generated against.
pub fn library_name() -> String {
    format!("libavformat.so.{}", ff::ffi::LIBAVFORMAT_VERSION_MAJOR)
}

fn load() -> Result<Avformat, String> {
    let name = library_name();
    // SAFETY: loading libavformat runs its (and its dependencies') initialisers, which have
    // no preconditions; the library is never unloaded.
    let library = unsafe { libloading::Library::new(&name) }
        .map_err(|e| format!("cannot load {name} (install libavformat59): {e}"))?;
    macro_rules! sym {
        ($name:literal) => {
            // SAFETY: the symbol is libavformat's exported function of that name, and the
            // field's type is its C signature as in the bindings.
            *unsafe { library.get(concat!($name, "\0").as_bytes()) }
                .map_err(|e| format!("{name} has no {}: {e}", $name))?
        };
    }
    Ok(Avformat {
        alloc_output_context2: sym!("avformat_alloc_output_context2"),
        new_stream: sym!("avformat_new_stream"),
        free_context: sym!("avformat_free_context"),
        write_header: sym!("avformat_write_header"),
        write_frame: sym!("av_write_frame"),
        interleaved_write_frame: sym!("av_interleaved_write_frame"),
        write_trailer: sym!("av_write_trailer"),
        avio_open: sym!("avio_open"),
        avio_closep: sym!("avio_closep"),
        avio_open_dyn_buf: sym!("avio_open_dyn_buf"),
        avio_close_dyn_buf: sym!("avio_close_dyn_buf"),
        _library: library,
    })
}

fn avformat() -> Result<&'static Avformat, &'static str> {
    static LIB: OnceLock<Result<Avformat, String>> = OnceLock::new();
    LIB.get_or_init(load).as_ref().map_err(String::as_str)
}

/// An output (muxer) context: a file, or memory through [`OutputContext::open_memory`].
pub(crate) struct OutputContext {
    lib: &'static Avformat,
    ctx: *mut AVFormatContext,
    /// Names the output in errors (`MP4 /path`, `MPEG-TS`).
    label: String,
}

// SAFETY: the context is owned by this value alone; FFmpeg contexts may move between threads.
unsafe impl Send for OutputContext {}

impl OutputContext {
    /// A context for the muxer `format`, writing to `path` when given (opened now), else
    /// nowhere until [`OutputContext::open_memory`]. `label` names it in errors.
    pub(crate) fn new(format: &str, path: Option<&Path>, label: String) -> CodecResult<Self> {
        let lib = avformat().map_err(|e| CodecError::ffmpeg(format!("{label}: {e}")))?;
        let format = CString::new(format).map_err(|_| CodecError::InvalidInput(format.into()))?;
        let path = path
            .map(|p| {
                CString::new(p.to_string_lossy().into_owned())
                    .map_err(|_| CodecError::InvalidInput(format!("{}: NUL in path", p.display())))
            })
            .transpose()?;
        let path_ptr = path.as_ref().map_or(std::ptr::null(), |p| p.as_ptr());
        let mut ctx = std::ptr::null_mut();
        // SAFETY: allocates a context for the named muxer; the strings outlive the call.
        let rc = unsafe {
            (lib.alloc_output_context2)(&mut ctx, std::ptr::null(), format.as_ptr(), path_ptr)
        };
        if rc < 0 || ctx.is_null() {
            let e = ff::Error::from(rc.min(-1));
            return Err(CodecError::ffmpeg(format!("{label}: {e}")));
        }
        let out = Self { lib, ctx, label };
        if let Some(path) = &path {
            // SAFETY: `ctx` is valid and has no pb yet; the opened file becomes its pb, closed
            // on drop.
            let rc = unsafe {
                (lib.avio_open)(&mut (*out.ctx).pb, path.as_ptr(), ff::ffi::AVIO_FLAG_WRITE)
            };
            out.check(rc)?;
        }
        Ok(out)
    }

    fn check(&self, rc: c_int) -> CodecResult<()> {
        if rc < 0 {
            return Err(CodecError::ffmpeg(format!(
                "{}: {}",
                self.label,
                ff::Error::from(rc)
            )));
        }
        Ok(())
    }

    /// The raw context, for fields the bindings expose.
    pub(crate) fn as_mut_ptr(&mut self) -> *mut AVFormatContext {
        self.ctx
    }

    /// Adds a stream; returns its index and its (context-owned) stream.
    pub(crate) fn add_stream(&mut self) -> CodecResult<(usize, *mut AVStream)> {
        // SAFETY: a valid context; the stream it returns is owned by it.
        let stream = unsafe { (self.lib.new_stream)(self.ctx, std::ptr::null()) };
        if stream.is_null() {
            return Err(CodecError::ffmpeg(format!(
                "{}: out of memory for a stream",
                self.label
            )));
        }
        // SAFETY: the new stream is valid.
        Ok((unsafe { (*stream).index } as usize, stream))
    }

    /// Writes the header with the muxer options given.
    pub(crate) fn write_header(&mut self, options: &[(&str, &str)]) -> CodecResult<()> {
        let mut dict = ff::Dictionary::new();
        for (k, v) in options {
            dict.set(k, v);
        }
        // SAFETY: the raw dictionary is handed back to `own` below.
        let mut raw = unsafe { dict.disown() };
        // SAFETY: a valid context; FFmpeg takes the dictionary, leaves what it did not use in
        // it, and that is freed by `own`.
        let rc = unsafe { (self.lib.write_header)(self.ctx, &mut raw) };
        // SAFETY: `raw` is a dictionary (or NULL) this code owns again.
        drop(unsafe { ff::Dictionary::own(raw) });
        self.check(rc)
    }

    /// A stream's time base (set by the muxer when the header is written).
    pub(crate) fn time_base(&self, index: usize) -> ff::Rational {
        // SAFETY: a valid context; the index is checked against its stream count.
        unsafe {
            let ctx = &*self.ctx;
            if index >= ctx.nb_streams as usize {
                return ff::Rational(1, 1000);
            }
            ff::Rational::from((**ctx.streams.add(index)).time_base)
        }
    }

    /// Writes a packet, interleaved (buffered across streams) or as is. A `None` packet
    /// flushes the muxer's pending data.
    pub(crate) fn write(
        &mut self,
        packet: Option<&mut ff::Packet>,
        interleaved: bool,
    ) -> CodecResult<()> {
        use ff::packet::Mut;
        let pkt = packet.map_or(std::ptr::null_mut(), |p| p.as_mut_ptr());
        let f = if interleaved {
            self.lib.interleaved_write_frame
        } else {
            self.lib.write_frame
        };
        // SAFETY: a valid context with its header written; the packet is valid or NULL.
        let rc = unsafe { f(self.ctx, pkt) };
        self.check(rc)
    }

    /// Writes the trailer (the index of an MP4). Returns FFmpeg's code: fragmented MP4 returns
    /// the size of its `mfra` box, so only a negative one is an error.
    pub(crate) fn write_trailer(&mut self) -> CodecResult<()> {
        // SAFETY: a valid context with its header written.
        let rc = unsafe { (self.lib.write_trailer)(self.ctx) };
        self.check(rc)
    }

    /// Points the context at a new memory buffer (the context must have no output).
    pub(crate) fn open_memory(&mut self) -> CodecResult<()> {
        // SAFETY: a valid context; the buffer becomes its pb until `close_memory`.
        let rc = unsafe { (self.lib.avio_open_dyn_buf)(&mut (*self.ctx).pb) };
        self.check(rc)
    }

    /// Closes the memory buffer opened by [`OutputContext::open_memory`] and returns its bytes.
    pub(crate) fn close_memory(&mut self) -> Vec<u8> {
        // SAFETY: pb is the context's dynamic buffer (or NULL); its bytes are copied and then
        // freed, and pb reset.
        unsafe {
            let pb = (*self.ctx).pb;
            if pb.is_null() {
                return Vec::new();
            }
            let mut buf: *mut u8 = std::ptr::null_mut();
            let len = (self.lib.avio_close_dyn_buf)(pb, &mut buf);
            (*self.ctx).pb = std::ptr::null_mut();
            let out = if buf.is_null() || len <= 0 {
                Vec::new()
            } else {
                std::slice::from_raw_parts(buf, len as usize).to_vec()
            };
            ff::ffi::av_free(buf.cast());
            out
        }
    }
}

impl Drop for OutputContext {
    fn drop(&mut self) {
        // SAFETY: the context is valid and owned; a memory buffer is closed by its owner
        // (`close_memory`) before, so a remaining pb is the file opened in `new`.
        unsafe {
            if !(*self.ctx).pb.is_null() {
                (self.lib.avio_closep)(&mut (*self.ctx).pb);
            }
            (self.lib.free_context)(self.ctx);
        }
    }
}
