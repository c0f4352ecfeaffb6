/*
 * push_custom URL [SECONDS]: pushes the app's own frames through onair's C API.
 *
 * A moving-bar I420 picture at 640x360, 15 fps, and a 440 Hz triangle tone as 48 kHz mono PCM (the
 * default audio quality), both paced in real time, to an RTMP URL for SECONDS (default 10).
 * Status changes and errors are printed; the exit status is 0 when the push connected and
 * ran to the end, 1 otherwise.
 *
 *   cc examples/c/push_custom.c $(pkg-config --cflags --libs onair) -o push_custom
 *   ./push_custom rtmp://127.0.0.1:1935/live/c 10
 */
#include <onair.h>

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { WIDTH = 640, HEIGHT = 360, FPS = 15, RATE = 48000, AUDIO_MS = 20 };

static atomic_int connected;
static atomic_int failed;

static void on_status(void *user_data, int32_t status, const char *msg, const char *extra) {
    (void)user_data;
    (void)extra;
    printf("status %d: %s\n", status, msg);
    if (status == ONAIR_PUSH_STATUS_CONNECT_SUCCESS) {
        atomic_store(&connected, 1);
    }
    fflush(stdout);
}

static void on_error(void *user_data, int32_t code, const char *msg, const char *extra) {
    (void)user_data;
    (void)extra;
    fprintf(stderr, "error %d (%s): %s\n", code, onair_code_message(code), msg);
    atomic_store(&failed, 1);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_until(double due) {
    double wait = due - now_s();
    if (wait > 0) {
        struct timespec t = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
        nanosleep(&t, NULL);
    }
}

/* A 440 Hz triangle wave (no libm needed), amplitude 8000. */
static int16_t triangle(long sample) {
    long period = RATE / 440, phase = sample % period;
    long ramp = phase < period / 2 ? phase : period - phase; /* 0 .. period/2 */
    return (int16_t)(ramp * 32000 / period - 8000);
}

/* A grey picture with a white bar that moves one step per frame. */
static void draw(uint8_t *i420, int frame) {
    uint8_t *y = i420, *u = i420 + WIDTH * HEIGHT, *v = u + WIDTH * HEIGHT / 4;
    int bar = (frame * 8) % WIDTH;
    for (int row = 0; row < HEIGHT; row++) {
        for (int col = 0; col < WIDTH; col++) {
            y[row * WIDTH + col] = (col >= bar && col < bar + 32) ? 235 : 96;
        }
    }
    memset(u, 128, WIDTH * HEIGHT / 4);
    memset(v, 128, WIDTH * HEIGHT / 4);
}

static int check(const char *what, int code) {
    if (code != ONAIR_OK) {
        fprintf(stderr, "%s: %s (%s)\n", what, onair_code_message(code), onair_last_error_message());
    }
    return code == ONAIR_OK;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [SECONDS]\n", argv[0]);
        return 2;
    }
    double seconds = argc > 2 ? atof(argv[2]) : 10.0;
    printf("onair %s\n", onair_version());

    OnairPusher *pusher = onair_pusher_create();
    OnairPusherObserver observer;
    memset(&observer, 0, sizeof observer);
    observer.on_push_status_update = on_status;
    observer.on_error = on_error;
    OnairVideoEncoderParam param = {ONAIR_VIDEO_RESOLUTION_640X360,
                                    ONAIR_VIDEO_RESOLUTION_MODE_LANDSCAPE, FPS, 0, 0};
    int ok = check("set_observer", onair_pusher_set_observer(pusher, &observer, NULL)) &&
             check("set_video_quality", onair_pusher_set_video_quality(pusher, &param)) &&
             check("custom video", onair_pusher_enable_custom_video_capture(pusher, true)) &&
             check("custom audio", onair_pusher_enable_custom_audio_capture(pusher, true)) &&
             check("start_push", onair_pusher_start_push(pusher, argv[1]));

    static uint8_t picture[WIDTH * HEIGHT * 3 / 2];
    static int16_t pcm[RATE * AUDIO_MS / 1000];
    OnairVideoFrame video = {ONAIR_PIXEL_FORMAT_I420, ONAIR_BUFFER_TYPE_BYTE_BUFFER, picture,
                             sizeof picture, WIDTH, HEIGHT, 0, ONAIR_ROTATION_0};
    OnairAudioFrame audio = {(const uint8_t *)pcm, sizeof pcm, RATE, 1};
    double start = now_s(), next_video = start, next_audio = start;
    long frames = 0, chunks = 0, samples = 0;
    while (ok && !atomic_load(&failed) && now_s() - start < seconds) {
        if (next_video <= next_audio) {
            sleep_until(next_video);
            draw(picture, (int)frames);
            /* REFUSED only before the push session exists; anything else is a bug here. */
            int r = onair_pusher_send_custom_video_frame(pusher, &video);
            ok = r == ONAIR_OK || check("send video", r);
            frames++;
            next_video = start + (double)frames / FPS;
        } else {
            sleep_until(next_audio);
            for (size_t i = 0; i < sizeof pcm / sizeof pcm[0]; i++, samples++) {
                pcm[i] = triangle(samples);
            }
            int r = onair_pusher_send_custom_audio_frame(pusher, &audio);
            ok = r == ONAIR_OK || check("send audio", r);
            chunks++;
            next_audio = start + (double)chunks * AUDIO_MS / 1000.0;
        }
    }
    onair_pusher_stop_push(pusher);
    onair_pusher_release(pusher);
    printf("sent %ld video frames, %ld audio frames\n", frames, chunks);
    return ok && atomic_load(&connected) && !atomic_load(&failed) ? 0 : 1;
}
