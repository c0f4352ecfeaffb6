// onair's LiteAV-compatible C++ API: V2TXLivePusherObserver, with LiteAV's virtual callbacks
// (every one a no-op by default). Callbacks run on onair's threads: onProcessVideoFrame and
// onRenderVideoFrame on the video thread, the others on the pusher's callback thread.
#ifndef ONAIR_LITEAV_V2TXLIVEPUSHEROBSERVER_HPP
#define ONAIR_LITEAV_V2TXLIVEPUSHEROBSERVER_HPP

#include "V2TXLiveDef.hpp"

namespace liteav {

class V2TXLivePusherObserver {
   public:
    virtual ~V2TXLivePusherObserver() {}

    /// An error; `extraInfo` is a `const char*` with details.
    virtual void onError(int32_t /*code*/, const char* /*msg*/, void* /*extraInfo*/) {}
    /// A warning; the push goes on.
    virtual void onWarning(int32_t /*code*/, const char* /*msg*/, void* /*extraInfo*/) {}
    virtual void onCaptureFirstAudioFrame() {}
    virtual void onCaptureFirstVideoFrame() {}
    /// 0..100, after enableVolumeEvaluation.
    virtual void onMicrophoneVolumeUpdate(int32_t /*volume*/) {}
    virtual void onPushStatusUpdate(V2TXLivePushStatus /*state*/, const char* /*msg*/, void* /*extraInfo*/) {}
    /// Every 2 s while pushing.
    virtual void onStatisticsUpdate(V2TXLivePusherStatistics /*statistics*/) {}
    /// The snapshot (onair delivers RGBA32, named by `format`); `image` NULL on failure.
    virtual void onSnapshotComplete(const char* /*image*/, int /*length*/, int /*width*/, int /*height*/,
                                    V2TXLivePixelFormat /*format*/) {}
    /// The local preview, after enableCustomVideoRender.
    virtual void onRenderVideoFrame(const V2TXLiveVideoFrame* /*videoFrame*/) {}
    /// The custom-process hook, after enableCustomVideoProcess: fill dstFrame->data.
    virtual int onProcessVideoFrame(V2TXLiveVideoFrame* /*srcFrame*/, V2TXLiveVideoFrame* /*dstFrame*/) { return 0; }
    virtual void onScreenCaptureStarted() {}
    virtual void onScreenCaptureStoped(int /*reason*/) {}
};

}  // namespace liteav

#endif
