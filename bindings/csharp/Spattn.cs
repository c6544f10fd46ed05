// C# bindings of libspattn: P/Invoke declarations mirroring include/spattn/spattn.h (checked
// against it by tools/check_pinvoke.py), SafeHandle-based Config and Model, SpattnException.
//
// The native library is loaded as "spattn": libspattn.so through LD_LIBRARY_PATH (or a Mono
// <dllmap dll="spattn" target="/path/libspattn.so.0"/> in the program's .config file).
// Compile with -unsafe (spattn_attention_args has fixed-size stride arrays).
using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Spattn
{
    public enum spattn_status : int
    {
        SPATTN_OK = 0,
        SPATTN_ERR_INVALID_ARGUMENT = 1,
        SPATTN_ERR_OUT_OF_MEMORY = 2,
        SPATTN_ERR_IO = 3,
        SPATTN_ERR_SYNTAX = 4,
        SPATTN_ERR_UNKNOWN_KEY = 5,
        SPATTN_ERR_TYPE = 6,
        SPATTN_ERR_OUT_OF_RANGE = 7,
        SPATTN_ERR_DUPLICATE_KEY = 8,
        SPATTN_ERR_LIMIT = 9,
        SPATTN_ERR_MISSING_KEY = 10,
        SPATTN_ERR_FORMULA = 11,
        SPATTN_ERR_CALIBRATION_MISSING = 12,
        SPATTN_ERR_CHECKPOINT = 13,
        SPATTN_ERR_UNSAFE_PATH = 14,
        SPATTN_ERR_NOT_FOUND = 15,
        SPATTN_ERR_UNSUPPORTED = 16,
        SPATTN_ERR_CUDA = 17,
        SPATTN_ERR_WRONG_ALGORITHM = 18,
        SPATTN_ERR_INTERNAL = 19,
        SPATTN_STATUS_MAX_ENUM = 0x7FFFFFFF,
    }

    public enum spattn_log_level : int
    {
        SPATTN_LOG_DEBUG = 0,
        SPATTN_LOG_INFO = 1,
        SPATTN_LOG_WARNING = 2,
        SPATTN_LOG_ERROR = 3,
        SPATTN_LOG_MAX_ENUM = 0x7FFFFFFF,
    }

    public enum spattn_algorithm : int
    {
        SPATTN_ALGORITHM_NONE = 0,
        SPATTN_ALGORITHM_SKIP_SOFTMAX = 1,
        SPATTN_ALGORITHM_ROCKET = 2,
        SPATTN_ALGORITHM_DSA = 3,
        SPATTN_ALGORITHM_MAX_ENUM = 0x7FFFFFFF,
    }

    public enum spattn_phase : int
    {
        SPATTN_PHASE_PREFILL = 0,
        SPATTN_PHASE_DECODE = 1,
        SPATTN_PHASE_MAX_ENUM = 0x7FFFFFFF,
    }

    public enum spattn_format : int
    {
        SPATTN_FORMAT_AUTO = 0,
        SPATTN_FORMAT_JSON = 1,
        SPATTN_FORMAT_YAML = 2,
        SPATTN_FORMAT_MAX_ENUM = 0x7FFFFFFF,
    }

    public enum spattn_kt_cache_dtype : int
    {
        SPATTN_KT_CACHE_FLOAT8_E5M2 = 0,
        SPATTN_KT_CACHE_BFLOAT16 = 1,
        SPATTN_KT_CACHE_MAX_ENUM = 0x7FFFFFFF,
    }

    public enum spattn_source : int
    {
        SPATTN_SOURCE_NONE = 0,
        SPATTN_SOURCE_USER = 1,
        SPATTN_SOURCE_CHECKPOINT = 2,
        SPATTN_SOURCE_FORMULA = 3,
        SPATTN_SOURCE_MAX_ENUM = 0x7FFFFFFF,
    }

    public enum spattn_disabled_reason : int
    {
        SPATTN_DISABLED_NOT = 0,
        SPATTN_DISABLED_NOT_CONFIGURED = 1,
        SPATTN_DISABLED_IGNORED = 2,
        SPATTN_DISABLED_TIMESTEP = 3,
        SPATTN_DISABLED_MAX_ENUM = 0x7FFFFFFF,
    }

    public enum spattn_phase_key : int
    {
        SPATTN_PHASE_KEY_DENSE = 0,
        SPATTN_PHASE_KEY_SPARSE = 1,
        SPATTN_PHASE_KEY_MAX_ENUM = 0x7FFFFFFF,
    }

    public enum spattn_dtype : int
    {
        SPATTN_DTYPE_FLOAT16 = 1,
        SPATTN_DTYPE_BFLOAT16 = 2,
        SPATTN_DTYPE_FLOAT8_E4M3 = 3,
        SPATTN_DTYPE_FLOAT32 = 4,
        SPATTN_DTYPE_MAX_ENUM = 0x7FFFFFFF,
    }

    public enum spattn_kv_layout : int
    {
        SPATTN_KV_LAYOUT_CONTIGUOUS = 0,
        SPATTN_KV_LAYOUT_PAGED = 1,
        SPATTN_KV_LAYOUT_MAX_ENUM = 0x7FFFFFFF,
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct spattn_phase_values
    {
        public double prefill;
        public double decode;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct spattn_skip_softmax_config
    {
        public uint struct_size;
        public int has_threshold_scale_factor;
        public spattn_phase_values threshold_scale_factor;
        public int has_target_sparsity;
        public spattn_phase_values target_sparsity;
        public int has_disabled_until_timestep;
        public double disabled_until_timestep;
        public int sparsity_n;
        public int sparsity_m;
        public int num_sink_tokens;
        public int dense_window_size;
        public int quantize_p;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct spattn_rocket_config
    {
        public uint struct_size;
        public int window_size;
        public int kernel_size;
        public double topr;
        public int topk;
        public int prompt_budget;
        public int page_size;
        public spattn_kt_cache_dtype kt_cache_dtype;
        public int has_seq_len_threshold;
        public int seq_len_threshold;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct spattn_dsa_config
    {
        public uint struct_size;
        public int index_n_heads;
        public int index_head_dim;
        public int index_topk;
        public int indexer_max_chunk_size;
        public int skip_indexer_for_short_seqs;
        public int enable_heuristic_topk;
        public int seq_len_threshold;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct spattn_layer_params
    {
        public uint struct_size;
        public spattn_algorithm algorithm;
        public int enabled;
        public spattn_disabled_reason disabled_reason;
        public spattn_phase_key phase_key;
        public double threshold_scale_factor;
        public spattn_source threshold_source;
        public double target_sparsity;
        public spattn_source target_source;
        public double disabled_until_timestep;
        public spattn_source timestep_source;
        public int sparsity_n;
        public int sparsity_m;
        public int num_sink_tokens;
        public int dense_window_size;
        public int quantize_p;

        public bool Enabled { get { return enabled != 0; } }
    }

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct spattn_attention_args
    {
        public uint struct_size;
        public spattn_dtype dtype;
        public int batch;
        public int num_heads;
        public int num_kv_heads;
        public int head_dim;
        public int seqlen_q;
        public int seqlen_kv;
        public IntPtr q;
        public IntPtr k;
        public IntPtr v;
        public IntPtr @out;
        public fixed long q_strides[3];
        public fixed long k_strides[3];
        public fixed long v_strides[3];
        public fixed long out_strides[3];
        public IntPtr cu_seqlens_q;
        public IntPtr cu_seqlens_kv;
        public float softmax_scale;
        public int causal;
        public IntPtr layer_params;
        public float threshold_scale_factor;
        public IntPtr lse;
        public IntPtr tile_counters;
        public int total_q;
        public int total_kv;
        public IntPtr kv_cache;
        public int skip_seqlen_kv;
    }

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct spattn_kv_cache
    {
        public uint struct_size;
        public spattn_kv_layout layout;
        public spattn_dtype dtype;
        public int num_kv_heads;
        public int head_dim;
        public int head_dim_v;
        public IntPtr k;
        public IntPtr v;
        public fixed long k_strides[3];
        public fixed long v_strides[3];
        public float k_scale;
        public float v_scale;
        public IntPtr seqlens_kv;
        public int max_seqlen_kv;
        public int page_size;
        public int num_pages;
        public IntPtr block_table;
        public int max_pages_per_seq;
    }

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct spattn_decode_args
    {
        public uint struct_size;
        public spattn_dtype dtype;
        public int batch;
        public int num_heads;
        public int seqlen_q;
        public IntPtr q;
        public fixed long q_strides[3];
        public IntPtr @out;
        public fixed long out_strides[3];
        public IntPtr kv_cache;
        public float softmax_scale;
        public int causal;
        public IntPtr layer_params;
        public float threshold_scale_factor;
        public int skip_seqlen_kv;
        public IntPtr lse;
        public IntPtr tile_counters;
        public IntPtr workspace;
        public UIntPtr workspace_size;
        public int num_splits;
    }

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct spattn_merge_args
    {
        public uint struct_size;
        public int num_parts;
        public int batch;
        public int seqlen;
        public int num_heads;
        public int head_dim;
        public spattn_dtype parts_dtype;
        public IntPtr parts;
        public fixed long part_strides[3];
        public IntPtr part_lse;
        public spattn_dtype out_dtype;
        public IntPtr @out;
        public fixed long out_strides[3];
        public IntPtr lse;
    }

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct spattn_sparse_attention_args
    {
        public uint struct_size;
        public spattn_dtype dtype;
        public int batch;
        public int num_heads;
        public int seqlen_q;
        public IntPtr cu_seqlens_q;
        public IntPtr q;
        public fixed long q_strides[3];
        public IntPtr @out;
        public fixed long out_strides[3];
        public IntPtr kv_cache;
        public IntPtr indices;
        public fixed long index_strides[3];
        public int topk;
        public int causal;
        public float softmax_scale;
        public IntPtr lse;
        public IntPtr workspace;
        public UIntPtr workspace_size;
        public int num_splits;
    }

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct spattn_topk_args
    {
        public uint struct_size;
        public int num_rows;
        public int num_cols;
        public IntPtr scores;
        public long score_row_stride;
        public IntPtr lengths;
        public int k;
        public IntPtr indices;
        public long index_row_stride;
    }

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct spattn_dsa_indexer_args
    {
        public uint struct_size;
        public spattn_dtype q_dtype;
        public int batch;
        public int seqlen_q;
        public IntPtr cu_seqlens_q;
        public int num_heads;
        public IntPtr q;
        public fixed long q_strides[3];
        public IntPtr weights;
        public fixed long weight_strides[2];
        public IntPtr k_cache;
        public IntPtr k_token_scales;
        public fixed long k_token_scale_strides[2];
        public IntPtr logits;
        public long logits_row_stride;
    }

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct spattn_dsa_layer_args
    {
        public uint struct_size;
        public IntPtr config;
        public IntPtr indexer;
        public IntPtr attention;
        public int index_topk;
        public IntPtr indices;
        public IntPtr workspace;
        public UIntPtr workspace_size;
    }

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct spattn_kt_cache
    {
        public uint struct_size;
        public spattn_kv_layout layout;
        public spattn_kt_cache_dtype dtype;
        public int num_kv_heads;
        public int head_dim;
        public IntPtr data;
        public fixed long strides[3];
        public int max_entries;
        public int entries_per_block;
        public int num_blocks;
        public IntPtr block_table;
        public int max_blocks_per_seq;
    }

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct spattn_rocket_context_args
    {
        public uint struct_size;
        public IntPtr config;
        public spattn_dtype dtype;
        public int batch;
        public int num_heads;
        public IntPtr q_window;
        public fixed long q_strides[3];
        public IntPtr kv_cache;
        public IntPtr kt_cache;
        public float softmax_scale;
        public IntPtr seqlens_out;
        public IntPtr kept_indices;
        public IntPtr workspace;
        public UIntPtr workspace_size;
    }

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct spattn_rocket_decode_args
    {
        public uint struct_size;
        public IntPtr config;
        public spattn_dtype dtype;
        public int batch;
        public int num_heads;
        public IntPtr q;
        public fixed long q_strides[3];
        public IntPtr @out;
        public fixed long out_strides[3];
        public IntPtr kv_cache;
        public IntPtr kt_cache;
        public float softmax_scale;
        public IntPtr lse;
        public IntPtr selected_indices;
        public IntPtr workspace;
        public UIntPtr workspace_size;
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate void spattn_log_fn(spattn_log_level level, IntPtr message, IntPtr user_data);

    /// <summary>The C functions, one to one. Strings in: NUL-terminated UTF-8 byte arrays
    /// (Native.Utf8); strings out: IntPtr (Native.FromUtf8).</summary>
    public static class Native
    {
        const string Lib = "spattn";
        const CallingConvention Cdecl = CallingConvention.Cdecl;

        public const int SPATTN_VERSION_MAJOR = 0;
        public const double SPATTN_NO_TIMESTEP = -1.0;

        [DllImport(Lib, CallingConvention = Cdecl)] public static extern uint spattn_version();
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern IntPtr spattn_version_string();
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern IntPtr spattn_status_string(spattn_status status);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern IntPtr spattn_last_error();
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern void spattn_free(IntPtr ptr);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_set_log_callback(spattn_log_fn fn, spattn_log_level min_level, IntPtr user_data);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern IntPtr spattn_algorithm_name(spattn_algorithm algorithm);

        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_config_parse(byte[] text, UIntPtr length, spattn_format format, out Config out_config);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_config_parse_file(byte[] path, spattn_format format, out Config out_config);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern void spattn_config_destroy(IntPtr config);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_algorithm spattn_config_algorithm(Config config);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern IntPtr spattn_config_backend(Config config);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_config_to_json(Config config, out IntPtr out_json);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_config_skip_softmax(Config config, ref spattn_skip_softmax_config @out);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_config_rocket(Config config, ref spattn_rocket_config @out);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_config_dsa(Config config, ref spattn_dsa_config @out);

        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_model_open(byte[] checkpoint_dir, Config user_config, out Model out_model);
        // The same with user_config NULL (the marshaler refuses a null SafeHandle).
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_model_open(byte[] checkpoint_dir, IntPtr user_config, out Model out_model);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern void spattn_model_destroy(IntPtr model);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern UIntPtr spattn_model_component_count(Model model);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern IntPtr spattn_model_component_name(Model model, UIntPtr index);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern UIntPtr spattn_model_ignore_count(Model model, UIntPtr component_index);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern IntPtr spattn_model_ignore_pattern(Model model, UIntPtr component_index, UIntPtr pattern_index);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_model_lookup(Model model, byte[] component, byte[] layer_name, spattn_phase phase, double timestep, ref spattn_layer_params @out);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_model_to_json(Model model, out IntPtr out_json);

        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_attention_forward(ref spattn_attention_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_attention_reference(ref spattn_attention_args args);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_decode_num_splits(ref spattn_decode_args args, out int out_splits);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_decode_workspace_size(ref spattn_decode_args args, out UIntPtr out_bytes);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_attention_decode(ref spattn_decode_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_attention_decode_reference(ref spattn_decode_args args);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_attention_merge(ref spattn_merge_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_attention_merge_reference(ref spattn_merge_args args);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_sparse_attention_num_splits(ref spattn_sparse_attention_args args, out int out_splits);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_sparse_attention_workspace_size(ref spattn_sparse_attention_args args, out UIntPtr out_bytes);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_sparse_attention(ref spattn_sparse_attention_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_sparse_attention_reference(ref spattn_sparse_attention_args args);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_topk(ref spattn_topk_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_topk_reference(ref spattn_topk_args args);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_dsa_indexer(ref spattn_dsa_indexer_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_dsa_indexer_reference(ref spattn_dsa_indexer_args args);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_dsa_layer_workspace_size(ref spattn_dsa_layer_args args, out UIntPtr out_bytes);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_dsa_layer(ref spattn_dsa_layer_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_dsa_layer_reference(ref spattn_dsa_layer_args args);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_rocket_context_workspace_size(ref spattn_rocket_context_args args, out UIntPtr out_bytes);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_rocket_context(ref spattn_rocket_context_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_rocket_context_select(ref spattn_rocket_context_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_rocket_context_compact(ref spattn_rocket_context_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_rocket_context_build_kt(ref spattn_rocket_context_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_rocket_context_reference(ref spattn_rocket_context_args args);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_rocket_decode_workspace_size(ref spattn_rocket_decode_args args, out UIntPtr out_bytes);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_rocket_decode(ref spattn_rocket_decode_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_rocket_decode_update_kt(ref spattn_rocket_decode_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_rocket_decode_select(ref spattn_rocket_decode_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_rocket_decode_attend(ref spattn_rocket_decode_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern spattn_status spattn_rocket_decode_reference(ref spattn_rocket_decode_args args);

        /// <summary>NUL-terminated UTF-8 bytes of `text`; null stays null (a C NULL).</summary>
        public static byte[] Utf8(string text)
        {
            if (text == null) return null;
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            Array.Resize(ref bytes, bytes.Length + 1);
            return bytes;
        }

        /// <summary>The UTF-8 C string at `ptr`, or null for NULL.</summary>
        public static string FromUtf8(IntPtr ptr)
        {
            if (ptr == IntPtr.Zero) return null;
            int length = 0;
            while (Marshal.ReadByte(ptr, length) != 0) length++;
            byte[] bytes = new byte[length];
            Marshal.Copy(ptr, bytes, 0, length);
            return Encoding.UTF8.GetString(bytes);
        }

        /// <summary>Reads a `char **` result and frees it with spattn_free.</summary>
        public static string TakeString(IntPtr ptr)
        {
            try { return FromUtf8(ptr); }
            finally { spattn_free(ptr); }
        }

        /// <summary>Throws SpattnException with the thread's last message unless `status` is OK.</summary>
        public static void Check(spattn_status status)
        {
            if (status != spattn_status.SPATTN_OK)
                throw new SpattnException(status, FromUtf8(spattn_last_error()));
        }
    }

    /// <summary>A failed spattn call: Status, StatusName and the library's Message.</summary>
    public class SpattnException : Exception
    {
        public spattn_status Status { get; private set; }
        public string StatusName { get { return Native.FromUtf8(Native.spattn_status_string(Status)); } }

        public SpattnException(spattn_status status, string message) : base(message)
        {
            Status = status;
        }

        public override string ToString()
        {
            return StatusName + ": " + Message;
        }
    }

    /// <summary>A parsed user sparse-attention config (spattn_config). Immutable and
    /// thread-safe; Dispose() (idempotent) or the finalizer releases it. Calls on a disposed
    /// config throw ObjectDisposedException.</summary>
    public sealed class Config : SafeHandle
    {
        Config() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            Native.spattn_config_destroy(handle);
            return true;
        }

        public static Config Parse(string text, spattn_format format = spattn_format.SPATTN_FORMAT_AUTO)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            Config config;
            Native.Check(Native.spattn_config_parse(bytes, (UIntPtr)bytes.Length, format, out config));
            return config;
        }

        public static Config FromFile(string path, spattn_format format = spattn_format.SPATTN_FORMAT_AUTO)
        {
            Config config;
            Native.Check(Native.spattn_config_parse_file(Native.Utf8(path), format, out config));
            return config;
        }

        public spattn_algorithm Algorithm { get { return Native.spattn_config_algorithm(this); } }

        /// <summary>The VisualGen attention_config.backend, or null.</summary>
        public string Backend { get { return Native.FromUtf8(Native.spattn_config_backend(this)); } }

        public string ToJson()
        {
            IntPtr json;
            Native.Check(Native.spattn_config_to_json(this, out json));
            return Native.TakeString(json);
        }

        public spattn_skip_softmax_config SkipSoftmax()
        {
            var s = new spattn_skip_softmax_config { struct_size = (uint)Marshal.SizeOf(typeof(spattn_skip_softmax_config)) };
            Native.Check(Native.spattn_config_skip_softmax(this, ref s));
            return s;
        }

        public spattn_rocket_config Rocket()
        {
            var r = new spattn_rocket_config { struct_size = (uint)Marshal.SizeOf(typeof(spattn_rocket_config)) };
            Native.Check(Native.spattn_config_rocket(this, ref r));
            return r;
        }

        public spattn_dsa_config Dsa()
        {
            var d = new spattn_dsa_config { struct_size = (uint)Marshal.SizeOf(typeof(spattn_dsa_config)) };
            Native.Check(Native.spattn_config_dsa(this, ref d));
            return d;
        }
    }

    /// <summary>A checkpoint's calibration merged with a user config, resolved per layer
    /// (spattn_model). Immutable and thread-safe; released by Dispose() or the finalizer.</summary>
    public sealed class Model : SafeHandle
    {
        Model() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            Native.spattn_model_destroy(handle);
            return true;
        }

        /// <summary>Opens a checkpoint folder; `config` may be null (checkpoint defaults). The
        /// model copies what it needs: the config may be disposed afterwards.</summary>
        public static Model Open(string checkpointDir, Config config = null)
        {
            Model model;
            byte[] path = Native.Utf8(checkpointDir);
            if (config == null)
                Native.Check(Native.spattn_model_open(path, IntPtr.Zero, out model));
            else
                Native.Check(Native.spattn_model_open(path, config, out model));
            return model;
        }

        public string[] Components
        {
            get
            {
                int count = (int)Native.spattn_model_component_count(this);
                var names = new string[count];
                for (int i = 0; i < count; i++)
                    names[i] = Native.FromUtf8(Native.spattn_model_component_name(this, (UIntPtr)i));
                return names;
            }
        }

        public string[] IgnorePatterns(int componentIndex)
        {
            int count = (int)Native.spattn_model_ignore_count(this, (UIntPtr)componentIndex);
            var patterns = new string[count];
            for (int j = 0; j < count; j++)
                patterns[j] = Native.FromUtf8(Native.spattn_model_ignore_pattern(this, (UIntPtr)componentIndex, (UIntPtr)j));
            return patterns;
        }

        /// <summary>Resolves one layer. component: null for a plain checkpoint; timestep in
        /// [0, 1], or null (no timestep, LLMs).</summary>
        public spattn_layer_params Lookup(string component, string layer,
                                          spattn_phase phase = spattn_phase.SPATTN_PHASE_PREFILL,
                                          double? timestep = null)
        {
            var p = new spattn_layer_params { struct_size = (uint)Marshal.SizeOf(typeof(spattn_layer_params)) };
            Native.Check(Native.spattn_model_lookup(this, Native.Utf8(component), Native.Utf8(layer), phase,
                                                    timestep ?? Native.SPATTN_NO_TIMESTEP, ref p));
            return p;
        }

        public string ToJson()
        {
            IntPtr json;
            Native.Check(Native.spattn_model_to_json(this, out json));
            return Native.TakeString(json);
        }
    }

    public static class Attention
    {
        /// <summary>Arguments with struct_size set and everything else zero (dense).</summary>
        public static spattn_attention_args Args()
        {
            return new spattn_attention_args { struct_size = (uint)Marshal.SizeOf(typeof(spattn_attention_args)) };
        }

        /// <summary>spattn_attention_forward on device pointers, on `stream` (a cudaStream_t).</summary>
        public static void Forward(ref spattn_attention_args args, IntPtr stream)
        {
            Native.Check(Native.spattn_attention_forward(ref args, stream));
        }

        /// <summary>The CPU reference on host pointers (pinned by the caller).</summary>
        public static void Reference(ref spattn_attention_args args)
        {
            Native.Check(Native.spattn_attention_reference(ref args));
        }
    }
}
