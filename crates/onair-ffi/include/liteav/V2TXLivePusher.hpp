// onair's LiteAV-compatible C++ API: V2TXLivePusher with LiteAV's desktop names and
// signatures, header-only over onair's C API. Link with -lonair (pkg-config onair).
//
// What onair does not have yet answers V2TXLIVE_ERROR_NOT_SUPPORTED (render views, screen
// capture, system audio loopback) or does nothing (setBeautyStyle, showDebugView); the
// audio-effect and device managers are not offered. docs/c-api.md lists each call.
#ifndef ONAIR_LITEAV_V2TXLIVEPUSHER_HPP
#define ONAIR_LITEAV_V2TXLIVEPUSHER_HPP

#include "V2TXLiveDef.hpp"
#include "V2TXLivePusherObserver.hpp"

namespace liteav {

class V2TXLivePusher {
   public:
    virtual void setObserver(V2TXLivePusherObserver* observer) = 0;
    virtual int32_t setRenderView(void* view) = 0;
    virtual int32_t setRenderMirror(V2TXLiveMirrorType mirrorType) = 0;
    virtual int32_t setEncoderMirror(bool mirror) = 0;
    virtual int32_t setRenderRotation(V2TXLiveRotation rotation) = 0;
    virtual int32_t setRenderFillMode(V2TXLiveFillMode mode) = 0;
    virtual int32_t startCamera(const char* cameraId) = 0;
    virtual int32_t stopCamera() = 0;
    virtual int32_t startMicrophone() = 0;
    virtual int32_t stopMicrophone() = 0;
    virtual int32_t startVirtualCamera(V2TXLiveImage* image) = 0;
    virtual int32_t stopVirtualCamera() = 0;
    virtual int32_t pauseAudio() = 0;
    virtual int32_t resumeAudio() = 0;
    virtual int32_t pauseVideo() = 0;
    virtual int32_t resumeVideo() = 0;
    virtual int32_t startPush(const char* url) = 0;
    virtual int32_t stopPush() = 0;
    virtual int32_t isPushing() = 0;
    virtual int32_t setAudioQuality(V2TXLiveAudioQuality quality) = 0;
    virtual int32_t setVideoQuality(const V2TXLiveVideoEncoderParam& param) = 0;
    virtual void setBeautyStyle(V2TXLiveBeautyStyle style, uint32_t beauty, uint32_t white, uint32_t ruddiness) = 0;
    virtual int32_t snapshot() = 0;
    virtual int32_t setWatermark(const char* watermarkPath, float x, float y, float scale) = 0;
    virtual int32_t enableVolumeEvaluation(int32_t intervalMs) = 0;
    virtual int32_t enableCustomVideoProcess(bool enable, V2TXLivePixelFormat pixelFormat, V2TXLiveBufferType bufferType) = 0;
    virtual int32_t enableCustomVideoCapture(bool enable) = 0;
    virtual int32_t enableCustomVideoRender(bool enable, V2TXLivePixelFormat pixelFormat, V2TXLiveBufferType bufferType) = 0;
    virtual int32_t enableCustomAudioCapture(bool enable) = 0;
    virtual int32_t sendCustomVideoFrame(V2TXLiveVideoFrame* videoFrame) = 0;
    virtual int32_t sendCustomAudioFrame(V2TXLiveAudioFrame* audioFrame) = 0;
    virtual int32_t sendSeiMessage(int payloadType, const uint8_t* data, uint32_t dataSize) = 0;
    virtual int32_t startScreenCapture() = 0;
    virtual int32_t stopScreenCapture() = 0;
    virtual int32_t startSystemAudioLoopback(const char* path = nullptr) = 0;
    virtual int32_t stopSystemAudioLoopback() = 0;
    virtual void showDebugView(bool isShow) = 0;
    /// `value` is a NUL-terminated string (a number or JSON, as the key wants).
    virtual int32_t setProperty(const char* key, const void* value) = 0;

   protected:
    virtual ~V2TXLivePusher() {}
};

}  // namespace liteav

namespace onair_liteav_detail {

class Pusher final : public liteav::V2TXLivePusher {
   public:
    Pusher() : handle_(onair_pusher_create()), observer_(nullptr) {}
    ~Pusher() override { onair_pusher_release(handle_); }
    Pusher(const Pusher&) = delete;
    Pusher& operator=(const Pusher&) = delete;

    void setObserver(liteav::V2TXLivePusherObserver* observer) override {
        // Detach first: once this returns no callback of the old observer runs.
        onair_pusher_set_observer(handle_, nullptr, nullptr);
        observer_ = observer;
        if (observer != nullptr) {
            OnairPusherObserver table = {};
            table.on_error = &Pusher::error;
            table.on_warning = &Pusher::warning;
            table.on_capture_first_audio_frame = &Pusher::firstAudio;
            table.on_capture_first_video_frame = &Pusher::firstVideo;
            table.on_microphone_volume_update = &Pusher::volume;
            table.on_push_status_update = &Pusher::status;
            table.on_statistics_update = &Pusher::statistics;
            table.on_snapshot_complete = &Pusher::snapshotDone;
            table.on_render_video_frame = &Pusher::render;
            table.on_process_video_frame = &Pusher::process;
            onair_pusher_set_observer(handle_, &table, this);
        }
    }
    int32_t setRenderView(void* /*view*/) override { return liteav::V2TXLIVE_ERROR_NOT_SUPPORTED; }
    int32_t setRenderMirror(liteav::V2TXLiveMirrorType /*mirrorType*/) override { return liteav::V2TXLIVE_ERROR_NOT_SUPPORTED; }
    int32_t setEncoderMirror(bool mirror) override { return onair_pusher_set_encoder_mirror(handle_, mirror); }
    int32_t setRenderRotation(liteav::V2TXLiveRotation /*rotation*/) override { return liteav::V2TXLIVE_ERROR_NOT_SUPPORTED; }
    int32_t setRenderFillMode(liteav::V2TXLiveFillMode /*mode*/) override { return liteav::V2TXLIVE_ERROR_NOT_SUPPORTED; }
    int32_t startCamera(const char* cameraId) override { return onair_pusher_start_camera(handle_, cameraId); }
    int32_t stopCamera() override { return onair_pusher_stop_camera(handle_); }
    int32_t startMicrophone() override { return onair_pusher_start_microphone(handle_); }
    int32_t stopMicrophone() override { return onair_pusher_stop_microphone(handle_); }
    int32_t startVirtualCamera(liteav::V2TXLiveImage* image) override {
        if (image == nullptr) return liteav::V2TXLIVE_ERROR_INVALID_PARAMETER;
        if (image->imageType != liteav::V2TXLiveImageTypeFile) return liteav::V2TXLIVE_ERROR_NOT_SUPPORTED;
        return onair_pusher_start_virtual_camera(handle_, image->imageSrc);
    }
    int32_t stopVirtualCamera() override { return onair_pusher_stop_virtual_camera(handle_); }
    int32_t pauseAudio() override { return onair_pusher_pause_audio(handle_); }
    int32_t resumeAudio() override { return onair_pusher_resume_audio(handle_); }
    int32_t pauseVideo() override { return onair_pusher_pause_video(handle_); }
    int32_t resumeVideo() override { return onair_pusher_resume_video(handle_); }
    int32_t startPush(const char* url) override { return onair_pusher_start_push(handle_, url); }
    int32_t stopPush() override { return onair_pusher_stop_push(handle_); }
    int32_t isPushing() override { return onair_pusher_is_pushing(handle_); }
    int32_t setAudioQuality(liteav::V2TXLiveAudioQuality quality) override {
        return onair_pusher_set_audio_quality(handle_, static_cast<OnairAudioQuality>(quality));
    }
    int32_t setVideoQuality(const liteav::V2TXLiveVideoEncoderParam& param) override {
        OnairVideoEncoderParam p;
        p.video_resolution = static_cast<OnairVideoResolution>(param.videoResolution);
        p.video_resolution_mode = static_cast<OnairVideoResolutionMode>(param.videoResolutionMode);
        p.video_fps = param.videoFps;
        p.video_bitrate = param.videoBitrate;
        p.min_video_bitrate = param.minVideoBitrate;
        return onair_pusher_set_video_quality(handle_, &p);
    }
    void setBeautyStyle(liteav::V2TXLiveBeautyStyle /*style*/, uint32_t /*beauty*/, uint32_t /*white*/,
                        uint32_t /*ruddiness*/) override {}
    int32_t snapshot() override { return onair_pusher_snapshot(handle_); }
    int32_t setWatermark(const char* watermarkPath, float x, float y, float scale) override {
        return onair_pusher_set_watermark(handle_, watermarkPath, x, y, scale);
    }
    int32_t enableVolumeEvaluation(int32_t intervalMs) override { return onair_pusher_enable_volume_evaluation(handle_, intervalMs); }
    int32_t enableCustomVideoProcess(bool enable, liteav::V2TXLivePixelFormat pixelFormat,
                                     liteav::V2TXLiveBufferType bufferType) override {
        return onair_pusher_enable_custom_video_process(handle_, enable, to_onair(pixelFormat), to_onair(bufferType));
    }
    int32_t enableCustomVideoCapture(bool enable) override { return onair_pusher_enable_custom_video_capture(handle_, enable); }
    int32_t enableCustomVideoRender(bool enable, liteav::V2TXLivePixelFormat pixelFormat,
                                    liteav::V2TXLiveBufferType bufferType) override {
        return onair_pusher_enable_custom_video_render(handle_, enable, to_onair(pixelFormat), to_onair(bufferType));
    }
    int32_t enableCustomAudioCapture(bool enable) override { return onair_pusher_enable_custom_audio_capture(handle_, enable); }
    int32_t sendCustomVideoFrame(liteav::V2TXLiveVideoFrame* videoFrame) override {
        if (videoFrame == nullptr) return liteav::V2TXLIVE_ERROR_INVALID_PARAMETER;
        OnairVideoFrame f = to_onair(*videoFrame);
        return onair_pusher_send_custom_video_frame(handle_, &f);
    }
    int32_t sendCustomAudioFrame(liteav::V2TXLiveAudioFrame* audioFrame) override {
        if (audioFrame == nullptr) return liteav::V2TXLIVE_ERROR_INVALID_PARAMETER;
        OnairAudioFrame f;
        f.data = reinterpret_cast<const uint8_t*>(audioFrame->data);
        f.length = audioFrame->length;
        f.sample_rate = audioFrame->sampleRate;
        f.channels = audioFrame->channel;
        return onair_pusher_send_custom_audio_frame(handle_, &f);
    }
    int32_t sendSeiMessage(int payloadType, const uint8_t* data, uint32_t dataSize) override {
        return onair_pusher_send_sei_message(handle_, payloadType, data, dataSize);
    }
    int32_t startScreenCapture() override { return liteav::V2TXLIVE_ERROR_NOT_SUPPORTED; }
    int32_t stopScreenCapture() override { return liteav::V2TXLIVE_ERROR_NOT_SUPPORTED; }
    int32_t startSystemAudioLoopback(const char* /*path*/ = nullptr) override { return liteav::V2TXLIVE_ERROR_NOT_SUPPORTED; }
    int32_t stopSystemAudioLoopback() override { return liteav::V2TXLIVE_ERROR_NOT_SUPPORTED; }
    void showDebugView(bool /*isShow*/) override {}
    int32_t setProperty(const char* key, const void* value) override {
        return onair_pusher_set_property(handle_, key, static_cast<const char*>(value));
    }

   private:
    static liteav::V2TXLivePusherObserver* of(void* self) { return static_cast<Pusher*>(self)->observer_; }
    static void error(void* self, int32_t code, const char* msg, const char* extra) {
        of(self)->onError(code, msg, const_cast<char*>(extra));
    }
    static void warning(void* self, int32_t code, const char* msg, const char* extra) {
        of(self)->onWarning(code, msg, const_cast<char*>(extra));
    }
    static void firstAudio(void* self) { of(self)->onCaptureFirstAudioFrame(); }
    static void firstVideo(void* self) { of(self)->onCaptureFirstVideoFrame(); }
    static void volume(void* self, int32_t v) { of(self)->onMicrophoneVolumeUpdate(v); }
    static void status(void* self, OnairPushStatus s, const char* msg, const char* extra) {
        of(self)->onPushStatusUpdate(static_cast<liteav::V2TXLivePushStatus>(s), msg, const_cast<char*>(extra));
    }
    static void statistics(void* self, const OnairPusherStatistics* s) {
        liteav::V2TXLivePusherStatistics out;
        out.appCpu = s->app_cpu;
        out.systemCpu = s->system_cpu;
        out.width = s->width;
        out.height = s->height;
        out.fps = s->fps;
        out.videoBitrate = s->video_bitrate;
        out.audioBitrate = s->audio_bitrate;
        out.rtt = s->rtt;
        out.netSpeed = s->net_speed;
        of(self)->onStatisticsUpdate(out);
    }
    static void snapshotDone(void* self, const OnairVideoFrame* image) {
        if (image == nullptr) {
            of(self)->onSnapshotComplete(nullptr, 0, 0, 0, liteav::V2TXLivePixelFormatUnknown);
            return;
        }
        of(self)->onSnapshotComplete(reinterpret_cast<const char*>(image->data), static_cast<int>(image->length),
                                     static_cast<int>(image->width), static_cast<int>(image->height),
                                     to_liteav(image->pixel_format));
    }
    static void render(void* self, const OnairVideoFrame* frame) {
        liteav::V2TXLiveVideoFrame f = to_liteav(*frame);
        of(self)->onRenderVideoFrame(&f);
    }
    static int32_t process(void* self, const OnairVideoFrame* src, OnairVideoFrame* dst) {
        liteav::V2TXLiveVideoFrame s = to_liteav(*src);
        liteav::V2TXLiveVideoFrame d = to_liteav(*dst);
        int r = of(self)->onProcessVideoFrame(&s, &d);
        dst->data = reinterpret_cast<uint8_t*>(d.data);
        return r;
    }

    OnairPusher* handle_;
    liteav::V2TXLivePusherObserver* observer_;
};

}  // namespace onair_liteav_detail

/// A pusher; release it with releaseV2TXLivePusher. onair pushes over RTMP in either mode.
inline liteav::V2TXLivePusher* createV2TXLivePusher(liteav::V2TXLiveMode /*mode*/ = liteav::V2TXLiveModeRTMP) {
    return new onair_liteav_detail::Pusher();
}

/// Stops the push and frees the pusher; no observer callback runs after it returns.
inline void releaseV2TXLivePusher(liteav::V2TXLivePusher* pusher) {
    delete static_cast<onair_liteav_detail::Pusher*>(pusher);
}

#endif
