// liteav_push URL [SECONDS]: examples/c/push_custom.c again, written against LiteAV's C++ API
// (V2TXLivePusher.hpp) the way a LiteAV desktop app does it; only the include path and the
// link line point at onair.
//
//   c++ -std=c++11 -Wall -Wextra -Werror examples/cpp/liteav_push.cpp
//       $(pkg-config --cflags --libs onair) -o liteav_push   (one line)
//   ./liteav_push rtmp://127.0.0.1:1935/live/cpp 10
#include "V2TXLivePusher.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

const int kWidth = 640, kHeight = 360, kFps = 15, kRate = 48000, kAudioMs = 20;

class Observer : public liteav::V2TXLivePusherObserver {
   public:
    std::atomic<bool> connected{false};
    std::atomic<bool> failed{false};

    void onError(int32_t code, const char* msg, void* /*extraInfo*/) override {
        std::fprintf(stderr, "error %d: %s\n", code, msg);
        failed = true;
    }
    void onPushStatusUpdate(liteav::V2TXLivePushStatus state, const char* msg, void* /*extraInfo*/) override {
        std::printf("status %d: %s\n", static_cast<int>(state), msg);
        std::fflush(stdout);
        if (state == liteav::V2TXLivePushStatusConnectSuccess) connected = true;
    }
};

void draw(std::vector<char>& i420, int frame) {
    int bar = (frame * 8) % kWidth;
    for (int row = 0; row < kHeight; row++)
        for (int col = 0; col < kWidth; col++)
            i420[static_cast<size_t>(row * kWidth + col)] = static_cast<char>((col >= bar && col < bar + 32) ? 235 : 96);
    for (size_t i = static_cast<size_t>(kWidth * kHeight); i < i420.size(); i++) i420[i] = static_cast<char>(128);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s URL [SECONDS]\n", argv[0]);
        return 2;
    }
    const double seconds = argc > 2 ? std::atof(argv[2]) : 10.0;
    Observer observer;
    liteav::V2TXLivePusher* pusher = createV2TXLivePusher(liteav::V2TXLiveModeRTMP);
    pusher->setObserver(&observer);
    liteav::V2TXLiveVideoEncoderParam param(liteav::V2TXLiveVideoResolution640x360);
    param.videoFps = kFps;
    int ok = pusher->setVideoQuality(param) == liteav::V2TXLIVE_OK &&
             pusher->enableCustomVideoCapture(true) == liteav::V2TXLIVE_OK &&
             pusher->enableCustomAudioCapture(true) == liteav::V2TXLIVE_OK &&
             pusher->startPush(argv[1]) == liteav::V2TXLIVE_OK;
    if (!ok) std::fprintf(stderr, "setup failed\n");

    std::vector<char> picture(static_cast<size_t>(kWidth * kHeight * 3 / 2));
    std::vector<int16_t> pcm(static_cast<size_t>(kRate * kAudioMs / 1000));
    liteav::V2TXLiveVideoFrame video;
    video.pixelFormat = liteav::V2TXLivePixelFormatI420;
    video.bufferType = liteav::V2TXLiveBufferTypeByteBuffer;
    video.data = picture.data();
    video.length = static_cast<int32_t>(picture.size());
    video.width = kWidth;
    video.height = kHeight;
    liteav::V2TXLiveAudioFrame audio;
    audio.data = reinterpret_cast<char*>(pcm.data());
    audio.length = static_cast<uint32_t>(pcm.size() * sizeof(int16_t));
    audio.sampleRate = kRate;
    audio.channel = 1;

    using Clock = std::chrono::steady_clock;
    const Clock::time_point start = Clock::now();
    long frames = 0, chunks = 0, samples = 0;
    auto at = [&](double s) { return start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)); };
    while (ok && !observer.failed && Clock::now() - start < std::chrono::duration<double>(seconds)) {
        double next_video = static_cast<double>(frames) / kFps;
        double next_audio = static_cast<double>(chunks) * kAudioMs / 1000.0;
        if (next_video <= next_audio) {
            std::this_thread::sleep_until(at(next_video));
            draw(picture, static_cast<int>(frames++));
            ok = pusher->sendCustomVideoFrame(&video) == liteav::V2TXLIVE_OK;
        } else {
            std::this_thread::sleep_until(at(next_audio));
            for (size_t i = 0; i < pcm.size(); i++, samples++)
                pcm[i] = static_cast<int16_t>(8000.0 * std::sin(2.0 * 3.14159265358979 * 440.0 * static_cast<double>(samples) / kRate));
            ok = pusher->sendCustomAudioFrame(&audio) == liteav::V2TXLIVE_OK;
            chunks++;
        }
    }
    pusher->stopPush();
    releaseV2TXLivePusher(pusher);
    std::printf("sent %ld video frames, %ld audio frames\n", frames, chunks);
    return ok && observer.connected && !observer.failed ? 0 : 1;
}
