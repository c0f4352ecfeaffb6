// onair's LiteAV-compatible C++ API: the types of V2TXLiveDef (resolutions, frames,
// encoder parameters, statistics, status), with LiteAV's names, numbering and defaults, and
// the conversions to onair's C types (namespace onair_liteav_detail, not for apps).
#ifndef ONAIR_LITEAV_V2TXLIVEDEF_HPP
#define ONAIR_LITEAV_V2TXLIVEDEF_HPP

#include <stdint.h>

#include "../onair.h"
#include "V2TXLiveCode.hpp"

#ifndef V2_API
#define V2_API
#endif

namespace liteav {

/// The protocol of a pusher; onair speaks RTMP (RTC URLs are refused by startPush).
enum V2TXLiveMode { V2TXLiveModeRTMP, V2TXLiveModeRTC };

/// The twelve presets, in LiteAV's order (sizes and bitrates: docs/v2txlive.md).
enum V2TXLiveVideoResolution {
    V2TXLiveVideoResolution160x160,
    V2TXLiveVideoResolution270x270,
    V2TXLiveVideoResolution480x480,
    V2TXLiveVideoResolution320x240,
    V2TXLiveVideoResolution480x360,
    V2TXLiveVideoResolution640x480,
    V2TXLiveVideoResolution320x180,
    V2TXLiveVideoResolution480x270,
    V2TXLiveVideoResolution640x360,
    V2TXLiveVideoResolution960x540,
    V2TXLiveVideoResolution1280x720,
    V2TXLiveVideoResolution1920x1080,
};

/// Landscape keeps the preset's size, Portrait swaps width and height.
enum V2TXLiveVideoResolutionMode {
    V2TXLiveVideoResolutionModeLandscape,
    V2TXLiveVideoResolutionModePortrait,
};

/// What the encoder is asked for; bitrates in kbit/s, 0 for the preset's defaults.
struct V2TXLiveVideoEncoderParam {
    V2TXLiveVideoResolution videoResolution;
    V2TXLiveVideoResolutionMode videoResolutionMode;
    uint32_t videoFps;
    uint32_t videoBitrate;
    uint32_t minVideoBitrate;

    V2TXLiveVideoEncoderParam(V2TXLiveVideoResolution resolution)
        : videoResolution(resolution),
          videoResolutionMode(V2TXLiveVideoResolutionModeLandscape),
          videoFps(15),
          videoBitrate(0),
          minVideoBitrate(0) {}
};

enum V2TXLiveMirrorType { V2TXLiveMirrorTypeAuto, V2TXLiveMirrorTypeEnable, V2TXLiveMirrorTypeDisable };

enum V2TXLiveFillMode { V2TXLiveFillModeFill, V2TXLiveFillModeFit, V2TXLiveFillModeScaleFill };

enum V2TXLiveRotation { V2TXLiveRotation0, V2TXLiveRotation90, V2TXLiveRotation180, V2TXLiveRotation270 };

/// LiteAV's desktop numbering (no NV12); onair's C API numbers these differently.
enum V2TXLivePixelFormat {
    V2TXLivePixelFormatUnknown,
    V2TXLivePixelFormatI420,
    V2TXLivePixelFormatBGRA32,
    V2TXLivePixelFormatRGBA32,
    V2TXLivePixelFormatTexture2D,
};

enum V2TXLiveBufferType { V2TXLiveBufferTypeUnknown, V2TXLiveBufferTypeByteBuffer, V2TXLiveBufferTypeTexture };

/// A GL texture in LiteAV; onair's C++ API carries byte buffers only (textures: Rust API).
struct V2TXLiveTexture {
    int glTextureId;
    void* glContext;
    V2TXLiveTexture() : glTextureId(0), glContext(nullptr) {}
};

enum V2TXLiveBeautyStyle { V2TXLiveBeautySmooth = 0, V2TXLiveBeautyNature = 1 };

/// A video frame: `data` holds `length` bytes of `width` x `height` pixels, tightly packed.
struct V2TXLiveVideoFrame {
    V2TXLivePixelFormat pixelFormat;
    V2TXLiveBufferType bufferType;
    char* data;
    int32_t length;
    int32_t width;
    int32_t height;
    V2TXLiveRotation rotation;
    V2TXLiveTexture texture;

    V2TXLiveVideoFrame()
        : pixelFormat(V2TXLivePixelFormatUnknown),
          bufferType(V2TXLiveBufferTypeUnknown),
          data(nullptr),
          length(0),
          width(0),
          height(0),
          rotation(V2TXLiveRotation0) {}
};

enum V2TXLiveAudioQuality { V2TXLiveAudioQualitySpeech, V2TXLiveAudioQualityDefault, V2TXLiveAudioQualityMusic };

/// PCM: interleaved s16le, `length` bytes.
struct V2TXLiveAudioFrame {
    char* data;
    uint32_t length;
    uint32_t sampleRate;
    uint32_t channel;
    V2TXLiveAudioFrame() : data(nullptr), length(0), sampleRate(48000), channel(1) {}
};

struct V2TXLivePusherStatistics {
    int32_t appCpu;
    int32_t systemCpu;
    int32_t width;
    int32_t height;
    int32_t fps;
    int32_t videoBitrate;
    int32_t audioBitrate;
    int32_t rtt;
    int32_t netSpeed;
    V2TXLivePusherStatistics()
        : appCpu(0), systemCpu(0), width(0), height(0), fps(0), videoBitrate(0), audioBitrate(0), rtt(0), netSpeed(0) {}
};

struct V2TXLivePlayerStatistics {
    int32_t appCpu;
    int32_t systemCpu;
    int32_t width;
    int32_t height;
    int32_t fps;
    int32_t videoBitrate;
    int32_t audioBitrate;
    int32_t audioPacketLoss;
    int32_t videoPacketLoss;
    int32_t jitterBufferDelay;
    int32_t audioTotalBlockTime;
    int32_t audioBlockRate;
    int32_t videoTotalBlockTime;
    int32_t videoBlockRate;
    int32_t rtt;
    int32_t netSpeed;
    V2TXLivePlayerStatistics()
        : appCpu(0), systemCpu(0), width(0), height(0), fps(0), videoBitrate(0), audioBitrate(0),
          audioPacketLoss(0), videoPacketLoss(0), jitterBufferDelay(0), audioTotalBlockTime(0),
          audioBlockRate(0), videoTotalBlockTime(0), videoBlockRate(0), rtt(0), netSpeed(0) {}
};

enum V2TXLivePushStatus {
    V2TXLivePushStatusDisconnected,
    V2TXLivePushStatusConnecting,
    V2TXLivePushStatusConnectSuccess,
    V2TXLivePushStatusReconnecting,
};

enum V2TXLiveImageType { V2TXLiveImageTypeFile = 0, V2TXLiveImageTypeBGRA32 = 1, V2TXLiveImageTypeRGBA32 = 2 };

/// An image; onair's virtual camera reads files (V2TXLiveImageTypeFile, `imageSrc` a path).
struct V2TXLiveImage {
    const char* imageSrc;
    V2TXLiveImageType imageType;
    uint32_t imageWidth;
    uint32_t imageHeight;
    uint32_t imageLength;
    V2TXLiveImage() : imageSrc(nullptr), imageType(V2TXLiveImageTypeBGRA32), imageWidth(0), imageHeight(0), imageLength(0) {}
};

struct V2TXLiveSize {
    long width;
    long height;
    V2TXLiveSize() : width(0), height(0) {}
};

}  // namespace liteav

namespace onair_liteav_detail {

inline OnairPixelFormat to_onair(liteav::V2TXLivePixelFormat f) {
    switch (f) {
        case liteav::V2TXLivePixelFormatI420: return ONAIR_PIXEL_FORMAT_I420;
        case liteav::V2TXLivePixelFormatBGRA32: return ONAIR_PIXEL_FORMAT_BGRA32;
        case liteav::V2TXLivePixelFormatRGBA32: return ONAIR_PIXEL_FORMAT_RGBA32;
        case liteav::V2TXLivePixelFormatTexture2D: return ONAIR_PIXEL_FORMAT_TEXTURE_2D;
        default: return ONAIR_PIXEL_FORMAT_UNKNOWN;
    }
}

inline liteav::V2TXLivePixelFormat to_liteav(OnairPixelFormat f) {
    switch (f) {
        case ONAIR_PIXEL_FORMAT_I420: return liteav::V2TXLivePixelFormatI420;
        case ONAIR_PIXEL_FORMAT_BGRA32: return liteav::V2TXLivePixelFormatBGRA32;
        case ONAIR_PIXEL_FORMAT_RGBA32: return liteav::V2TXLivePixelFormatRGBA32;
        case ONAIR_PIXEL_FORMAT_TEXTURE_2D: return liteav::V2TXLivePixelFormatTexture2D;
        default: return liteav::V2TXLivePixelFormatUnknown;
    }
}

inline OnairBufferType to_onair(liteav::V2TXLiveBufferType b) {
    switch (b) {
        case liteav::V2TXLiveBufferTypeByteBuffer: return ONAIR_BUFFER_TYPE_BYTE_BUFFER;
        case liteav::V2TXLiveBufferTypeTexture: return ONAIR_BUFFER_TYPE_TEXTURE;
        default: return ONAIR_BUFFER_TYPE_UNKNOWN;
    }
}

/// The C view of a LiteAV frame (no copy).
inline OnairVideoFrame to_onair(const liteav::V2TXLiveVideoFrame& f) {
    OnairVideoFrame out;
    out.pixel_format = to_onair(f.pixelFormat);
    out.buffer_type = f.bufferType == liteav::V2TXLiveBufferTypeUnknown ? ONAIR_BUFFER_TYPE_BYTE_BUFFER : to_onair(f.bufferType);
    out.data = reinterpret_cast<uint8_t*>(f.data);
    out.length = f.length > 0 ? static_cast<uint32_t>(f.length) : 0;
    out.width = f.width > 0 ? static_cast<uint32_t>(f.width) : 0;
    out.height = f.height > 0 ? static_cast<uint32_t>(f.height) : 0;
    out.stride = 0;
    out.rotation = static_cast<OnairRotation>(f.rotation);
    return out;
}

/// The LiteAV view of a C frame (no copy).
inline liteav::V2TXLiveVideoFrame to_liteav(const OnairVideoFrame& f) {
    liteav::V2TXLiveVideoFrame out;
    out.pixelFormat = to_liteav(f.pixel_format);
    out.bufferType = liteav::V2TXLiveBufferTypeByteBuffer;
    out.data = reinterpret_cast<char*>(f.data);
    out.length = static_cast<int32_t>(f.length);
    out.width = static_cast<int32_t>(f.width);
    out.height = static_cast<int32_t>(f.height);
    out.rotation = static_cast<liteav::V2TXLiveRotation>(f.rotation);
    return out;
}

}  // namespace onair_liteav_detail

#endif
