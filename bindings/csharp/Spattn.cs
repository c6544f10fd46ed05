// C# bindings of libspattn (license: Apache-2.0).
//
// Public: PascalCase enums mirroring the header's (Status.OutOfRange, Phase.Prefill; a value's
// name is the PascalCase of its spelling everywhere in spattn, "out_of_range", "prefill"),
// SafeHandle-based Config and Model, LayerParams, Library and SpattnException, and for each
// kernel entry point an argument class (AttentionArgs, KvCache, DecodeArgs, MergeArgs, VsaArgs,
// VsaLayoutArgs, SparseAttentionArgs, TopkArgs, DsaIndexerArgs, DsaLayerArgs, KtCache,
// RocketContextArgs, RocketDecodeArgs) with a static class of calls (Attention, Decode, Merge,
// Vsa, SparseAttention, Topk, Dsa, Rocket). Internal: the raw struct mirrors and the P/Invoke
// declarations, checked against include/spattn/spattn.h by tools/check_pinvoke.py.
//
// The native library "spattn" resolves to libspattn.so.0, the file a runtime package installs:
// on Mono through the dllmap in Spattn.dll.config (shipped next to Spattn.dll), on .NET Core
// 3+ through a NativeLibrary resolver registered at first use. A library of another major
// version is refused with a DllNotFoundException naming both versions.
// Compile with -unsafe (spattn_attention_args has fixed-size stride arrays).
using System;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace Spattn
{
    /// <summary>The values of spattn_status.</summary>
    public enum Status : int
    {
        Ok = 0,
        InvalidArgument = 1,  // NULL pointer, bad struct_size, bad enum
        OutOfMemory = 2,
        Io = 3,  // a file could not be opened or read
        Syntax = 4,  // malformed YAML/JSON text
        UnknownKey = 5,  // a key the schema does not have
        Type = 6,  // a value of the wrong type
        OutOfRange = 7,  // a value outside its allowed range or set
        DuplicateKey = 8,  // the same key twice in one mapping
        Limit = 9,  // input too large or too deeply nested
        MissingKey = 10,  // a required key is absent
        Formula = 11,  // calibration formula does not parse or evaluate
        CalibrationMissing = 12,  // target_sparsity requested, no formula to map it
        Checkpoint = 13,  // checkpoint folder structurally invalid
        UnsafePath = 14,  // a checkpoint path escapes its folder
        NotFound = 15,  // no such component / file
        Unsupported = 16,  // valid request this build or device cannot run
        Cuda = 17,  // the CUDA runtime reported an error
        WrongAlgorithm = 18,  // accessor for an algorithm the config is not
        Internal = 19,
    }

    /// <summary>The values of spattn_log_level.</summary>
    public enum LogLevel : int
    {
        Debug = 0,
        Info = 1,
        Warning = 2,
        Error = 3,
    }

    /// <summary>The values of spattn_algorithm.</summary>
    public enum Algorithm : int
    {
        None = 0,  // dense attention: nothing configured
        SkipSoftmax = 1,
        Rocket = 2,
        Dsa = 3,
        Vsa = 4,  // Video Sparse Attention (cube-sparse, video diffusion)
    }

    /// <summary>The values of spattn_phase.</summary>
    public enum Phase : int
    {
        Prefill = 0,  // context phase; diffusion denoising steps use this
        Decode = 1,  // generation phase
    }

    /// <summary>The values of spattn_format.</summary>
    public enum Format : int
    {
        Auto = 0,
        Json = 1,
        Yaml = 2,
    }

    /// <summary>The values of spattn_kt_cache_dtype.</summary>
    public enum KtCacheDtype : int
    {
        Float8E5m2 = 0,
        Bfloat16 = 1,
    }

    /// <summary>The values of spattn_indexer_k_dtype: the DSA indexer's K cache format.</summary>
    public enum IndexerKDtype : int
    {
        Fp8 = 0,  // FP8 E4M3 with a float32 scale per 128
        Fp4 = 1,  // FP4 E2M1 with a UE8M0 scale per 32; needs index_head_dim 128
    }

    /// <summary>The values of spattn_source.</summary>
    public enum Source : int
    {
        None = 0,  // not set anywhere
        User = 1,  // from the user config
        Checkpoint = 2,  // from the checkpoint's calibration metadata
        Formula = 3,  // threshold computed by the checkpoint formula
    }

    /// <summary>The values of spattn_disabled_reason.</summary>
    public enum DisabledReason : int
    {
        Not = 0,  // it is enabled
        NotConfigured = 1,  // no skip_softmax config, or no threshold/target for this phase
        Ignored = 2,  // layer matches a checkpoint ignore pattern
        Timestep = 3,  // timestep >= disabled_until_timestep
        NotTarget = 4,  // component is not a sparse-attention target (text encoder, VAE, ...)
        ZeroThreshold = 5,  // the phase's threshold is 0 (user 0, or a formula result <= 0)
    }

    /// <summary>The values of spattn_phase_key.</summary>
    public enum PhaseKey : int
    {
        Dense = 0,  // no sparsity: skip-softmax off, no N:M, no VSA
        Sparse = 1,  // skip-softmax, N:M sparse softmax or VSA on
    }

    /// <summary>The values of spattn_dtype.</summary>
    public enum Dtype : int
    {
        Float16 = 1,
        Bfloat16 = 2,
        Float8E4m3 = 3,  // KV caches only: OCP FP8 E4M3 (max 448), with a float scale
        Float32 = 4,  // partial outputs of spattn_attention_merge
    }

    /// <summary>The values of spattn_kv_layout.</summary>
    public enum KvLayout : int
    {
        Contiguous = 0,  // [batch][token][head][dim] by strides
        Paged = 1,  // page pools + block table
    }

    /// <summary>The values of spattn_vsa_direction: raster order to VSA cube order, or back.</summary>
    public enum VsaDirection : int
    {
        VsaToCubes = 0,  // gather: raster order -> cube order (pad slots 0)
        VsaToRaster = 1,  // scatter: cube order -> raster order
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct spattn_phase_values
    {
        public double prefill;
        public double decode;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct spattn_skip_softmax_config
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
    internal struct spattn_rocket_config
    {
        public uint struct_size;
        public int window_size;
        public int kernel_size;
        public double topr;
        public int topk;
        public int prompt_budget;
        public int page_size;
        public KtCacheDtype kt_cache_dtype;
        public int has_seq_len_threshold;
        public int seq_len_threshold;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct spattn_dsa_config
    {
        public uint struct_size;
        public int index_n_heads;
        public int index_head_dim;
        public int index_topk;
        public int indexer_max_chunk_size;
        public int skip_indexer_for_short_seqs;
        public int enable_heuristic_topk;
        public int seq_len_threshold;
        public int use_cute_dsl_topk;
        public int use_cute_dsl_paged_mqa_logits;
        public int q_split_threshold;
        public int indexer_rope_interleave;
        public int use_self_sampling_topk;
        public int use_gvr_emission;
        public IndexerKDtype indexer_k_dtype;
        public int index_share_for_mtp_iteration;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct spattn_vsa_config
    {
        public uint struct_size;
        public double vsa_sparsity;
        public fixed int cube_shape[3];
        public int has_disabled_until_timestep;
        public double disabled_until_timestep;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct spattn_layer_params
    {
        public uint struct_size;
        public Algorithm algorithm;
        public int enabled;
        public DisabledReason disabled_reason;
        public PhaseKey phase_key;
        public int reserved0;
        public double threshold_scale_factor;
        public Source threshold_source;
        public int reserved1;
        public double target_sparsity;
        public Source target_source;
        public int reserved2;
        public double disabled_until_timestep;
        public Source timestep_source;
        public int sparsity_n;
        public int sparsity_m;
        public int num_sink_tokens;
        public int dense_window_size;
        public int quantize_p;
        public double vsa_sparsity;
        public fixed int vsa_cube_shape[3];
    }

    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct spattn_attention_args
    {
        public uint struct_size;
        public Dtype dtype;
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
    internal unsafe struct spattn_kv_cache
    {
        public uint struct_size;
        public KvLayout layout;
        public Dtype dtype;
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
    internal unsafe struct spattn_decode_args
    {
        public uint struct_size;
        public Dtype dtype;
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
    internal unsafe struct spattn_merge_args
    {
        public uint struct_size;
        public int num_parts;
        public int batch;
        public int seqlen;
        public int num_heads;
        public int head_dim;
        public Dtype parts_dtype;
        public IntPtr parts;
        public fixed long part_strides[3];
        public IntPtr part_lse;
        public Dtype out_dtype;
        public IntPtr @out;
        public fixed long out_strides[3];
        public IntPtr lse;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct spattn_vsa_layout_args
    {
        public uint struct_size;
        public Dtype dtype;
        public VsaDirection direction;
        public int batch;
        public int num_heads;
        public int head_dim;
        public fixed int grid[3];
        public fixed int cube_shape[3];
        public IntPtr src;
        public IntPtr dst;
        public fixed long src_strides[3];
        public fixed long dst_strides[3];
    }

    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct spattn_vsa_geometry
    {
        public uint struct_size;
        public fixed int cubes[3];
        public int num_cubes;
        public int cube_volume;
        public int kept_cubes;
        public int reserved0;
        public long padded_tokens;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct spattn_vsa_args
    {
        public uint struct_size;
        public Dtype dtype;
        public int batch;
        public int num_heads;
        public int num_kv_heads;
        public int head_dim;
        public fixed int grid[3];
        public fixed int cube_shape[3];
        public double sparsity;
        public IntPtr layer_params;
        public IntPtr q;
        public IntPtr k;
        public IntPtr v;
        public IntPtr gate;
        public IntPtr @out;
        public fixed long q_strides[3];
        public fixed long k_strides[3];
        public fixed long v_strides[3];
        public fixed long gate_strides[3];
        public fixed long out_strides[3];
        public float softmax_scale;
        public int reserved0;
        public IntPtr lse;
        public IntPtr selected_cubes;
        public IntPtr workspace;
        public UIntPtr workspace_size;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct spattn_sparse_attention_args
    {
        public uint struct_size;
        public Dtype dtype;
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
    internal unsafe struct spattn_topk_args
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
    internal unsafe struct spattn_dsa_indexer_args
    {
        public uint struct_size;
        public Dtype q_dtype;
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
    internal unsafe struct spattn_dsa_layer_args
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
    internal unsafe struct spattn_kt_cache
    {
        public uint struct_size;
        public KvLayout layout;
        public KtCacheDtype dtype;
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
    internal unsafe struct spattn_rocket_context_args
    {
        public uint struct_size;
        public IntPtr config;
        public Dtype dtype;
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
    internal unsafe struct spattn_rocket_decode_args
    {
        public uint struct_size;
        public IntPtr config;
        public Dtype dtype;
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
    internal delegate void spattn_log_fn(LogLevel level, IntPtr message, IntPtr user_data);

    /// <summary>The C functions, one to one. Strings in: NUL-terminated UTF-8 byte arrays
    /// (Utf8); strings out: IntPtr (FromUtf8).</summary>
    internal static class Native
    {
        internal const string Lib = "spattn";
        const CallingConvention Cdecl = CallingConvention.Cdecl;

        internal const int SPATTN_VERSION_MAJOR = 0;
        internal const double SPATTN_NO_TIMESTEP = -1.0;

        static Native() { Loader.RegisterResolver(); }

        [DllImport(Lib, CallingConvention = Cdecl)] public static extern uint spattn_version();
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern IntPtr spattn_version_string();
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern IntPtr spattn_status_string(Status status);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern IntPtr spattn_last_error();
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern void spattn_free(IntPtr ptr);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_set_log_callback(spattn_log_fn fn, LogLevel min_level, IntPtr user_data);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern IntPtr spattn_algorithm_name(Algorithm algorithm);

        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_config_parse(byte[] text, UIntPtr length, Format format, out Config out_config);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_config_parse_file(byte[] path, Format format, out Config out_config);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern void spattn_config_destroy(IntPtr config);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Algorithm spattn_config_algorithm(Config config);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern IntPtr spattn_config_backend(Config config);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_config_to_json(Config config, out IntPtr out_json);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_config_skip_softmax(Config config, ref spattn_skip_softmax_config @out);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_config_rocket(Config config, ref spattn_rocket_config @out);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_config_dsa(Config config, ref spattn_dsa_config @out);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_config_vsa(Config config, ref spattn_vsa_config @out);

        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_model_open(byte[] checkpoint_dir, Config user_config, out Model out_model);
        // The same with user_config NULL (the marshaler refuses a null SafeHandle).
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_model_open(byte[] checkpoint_dir, IntPtr user_config, out Model out_model);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern void spattn_model_destroy(IntPtr model);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern UIntPtr spattn_model_component_count(Model model);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern IntPtr spattn_model_component_name(Model model, UIntPtr index);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern UIntPtr spattn_model_ignore_count(Model model, UIntPtr component_index);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern IntPtr spattn_model_ignore_pattern(Model model, UIntPtr component_index, UIntPtr pattern_index);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_model_lookup(Model model, byte[] component, byte[] layer_name, Phase phase, double timestep, ref spattn_layer_params @out);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_model_phase_key(Model model, byte[] component, Phase phase, double timestep, out PhaseKey out_key);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_model_to_json(Model model, out IntPtr out_json);

        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_attention_forward(ref spattn_attention_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_attention_reference(ref spattn_attention_args args);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_decode_num_splits(ref spattn_decode_args args, out int out_splits);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_decode_workspace_size(ref spattn_decode_args args, out UIntPtr out_bytes);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_attention_decode(ref spattn_decode_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_attention_decode_reference(ref spattn_decode_args args);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_attention_merge(ref spattn_merge_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_attention_merge_reference(ref spattn_merge_args args);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_sparse_attention_num_splits(ref spattn_sparse_attention_args args, out int out_splits);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_sparse_attention_workspace_size(ref spattn_sparse_attention_args args, out UIntPtr out_bytes);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_sparse_attention(ref spattn_sparse_attention_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_sparse_attention_reference(ref spattn_sparse_attention_args args);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_topk(ref spattn_topk_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_topk_reference(ref spattn_topk_args args);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_dsa_indexer(ref spattn_dsa_indexer_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_dsa_indexer_reference(ref spattn_dsa_indexer_args args);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_dsa_layer_workspace_size(ref spattn_dsa_layer_args args, out UIntPtr out_bytes);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_dsa_layer(ref spattn_dsa_layer_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_dsa_layer_reference(ref spattn_dsa_layer_args args);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_vsa_relayout(ref spattn_vsa_layout_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_vsa_relayout_reference(ref spattn_vsa_layout_args args);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_vsa_get_geometry(ref spattn_vsa_args args, ref spattn_vsa_geometry @out);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_vsa_workspace_size(ref spattn_vsa_args args, out UIntPtr out_size);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_vsa_forward(ref spattn_vsa_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_vsa_reference(ref spattn_vsa_args args);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_rocket_context_workspace_size(ref spattn_rocket_context_args args, out UIntPtr out_bytes);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_rocket_context(ref spattn_rocket_context_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_rocket_context_select(ref spattn_rocket_context_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_rocket_context_compact(ref spattn_rocket_context_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_rocket_context_build_kt(ref spattn_rocket_context_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_rocket_context_reference(ref spattn_rocket_context_args args);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_rocket_decode_workspace_size(ref spattn_rocket_decode_args args, out UIntPtr out_bytes);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_rocket_decode(ref spattn_rocket_decode_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_rocket_decode_update_kt(ref spattn_rocket_decode_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_rocket_decode_select(ref spattn_rocket_decode_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_rocket_decode_attend(ref spattn_rocket_decode_args args, IntPtr stream);
        [DllImport(Lib, CallingConvention = Cdecl)] public static extern Status spattn_rocket_decode_reference(ref spattn_rocket_decode_args args);

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

        /// <summary>Throws SpattnException with the thread's last message unless `status` is Ok.</summary>
        public static void Check(Status status)
        {
            if (status != Status.Ok)
                throw new SpattnException(status, FromUtf8(spattn_last_error()));
        }
    }

    /// <summary>Finds libspattn.so.0 for DllImport("spattn") on .NET Core 3+ (NativeLibrary,
    /// looked up by reflection: this assembly targets netstandard2.0). Mono reads the dllmap of
    /// Spattn.dll.config instead, and has no NativeLibrary: there this does nothing.</summary>
    internal static class Loader
    {
        static readonly string[] Names = { "libspattn.so." + Native.SPATTN_VERSION_MAJOR, "spattn" };
        static MethodInfo tryLoad;

        internal static void RegisterResolver()
        {
            Type nativeLibrary = Type.GetType("System.Runtime.InteropServices.NativeLibrary");
            Type resolverType = Type.GetType("System.Runtime.InteropServices.DllImportResolver");
            if (nativeLibrary == null || resolverType == null) return;
            tryLoad = nativeLibrary.GetMethod("TryLoad", new[] { typeof(string), typeof(Assembly), typeof(DllImportSearchPath?), typeof(IntPtr).MakeByRefType() });
            MethodInfo setResolver = nativeLibrary.GetMethod("SetDllImportResolver");
            if (tryLoad == null || setResolver == null) return;
            Delegate resolver = Delegate.CreateDelegate(resolverType, typeof(Loader).GetMethod("Resolve", BindingFlags.NonPublic | BindingFlags.Static));
            try { setResolver.Invoke(null, new object[] { typeof(Loader).Assembly, resolver }); }
            catch (TargetInvocationException) { } // a resolver was set already: keep it
        }

        static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
        {
            if (name != Native.Lib) return IntPtr.Zero;
            foreach (string candidate in Names)
            {
                var args = new object[] { candidate, assembly, searchPath, IntPtr.Zero };
                if ((bool)tryLoad.Invoke(null, args)) return (IntPtr)args[3];
            }
            return IntPtr.Zero;
        }
    }

    /// <summary>The loaded library: version, compatibility check and log callback.</summary>
    public static class Library
    {
        /// <summary>The major version these bindings were written for.</summary>
        public const int MajorVersion = Native.SPATTN_VERSION_MAJOR;
        static volatile bool compatible;
        // Keeps the installed delegate alive while the library may call it.
        internal static LogCallbackHolder logCallback;

        internal sealed class LogCallbackHolder
        {
            internal readonly spattn_log_fn Fn;

            internal LogCallbackHolder(Action<LogLevel, string> callback)
            {
                // An exception cannot cross into C: a throwing callback loses that message only.
                Fn = (level, message, userData) =>
                {
                    try { callback(level, Native.FromUtf8(message)); }
                    catch (Exception) { }
                };
            }
        }

        /// <summary>The loaded library's version string, "MAJOR.MINOR.PATCH".</summary>
        public static string VersionString { get { EnsureLoaded(); return Native.FromUtf8(Native.spattn_version_string()); } }

        /// <summary>The loaded library's version, MAJOR * 10000 + MINOR * 100 + PATCH.</summary>
        public static uint Version { get { EnsureLoaded(); return Native.spattn_version(); } }

        /// <summary>Loads the library and checks its major version (once): DllNotFoundException
        /// when it cannot be loaded or is of another major version. Every entry point calls it.</summary>
        public static void EnsureLoaded()
        {
            if (compatible) return;
            uint version;
            try { version = Native.spattn_version(); }
            catch (DllNotFoundException e)
            {
                throw new DllNotFoundException("spattn: libspattn.so." + MajorVersion + " not found: install it, put its folder on " +
                                               "LD_LIBRARY_PATH, or place it next to the application (" + e.Message + ")", e);
            }
            if (version / 10000 != MajorVersion)
                throw new DllNotFoundException("spattn: the library found is version " + Native.FromUtf8(Native.spattn_version_string()) +
                                               ", these bindings need major " + MajorVersion);
            compatible = true;
        }

        /// <summary>Installs (or, with null, removes) the process-wide log callback; messages below
        /// minLevel are dropped. Without one the library is silent.</summary>
        public static void SetLogCallback(Action<LogLevel, string> callback, LogLevel minLevel = LogLevel.Warning)
        {
            EnsureLoaded();
            var holder = callback == null ? null : new LogCallbackHolder(callback);
            Native.Check(Native.spattn_set_log_callback(holder == null ? null : holder.Fn, minLevel, IntPtr.Zero));
            logCallback = holder;
        }
    }

    /// <summary>A failed spattn call: Status, StatusName and the library's Message (naming the
    /// file, line:column and key path where known).</summary>
    public class SpattnException : Exception
    {
        /// <summary>What kind of failure.</summary>
        public Status Status { get; private set; }

        /// <summary>The C name of the status, e.g. "SPATTN_ERR_OUT_OF_RANGE".</summary>
        public string StatusName { get { return Native.FromUtf8(Native.spattn_status_string(Status)); } }

        /// <summary>An exception with a status and the library's message.</summary>
        public SpattnException(Status status, string message) : base(message)
        {
            Status = status;
        }

        /// <summary>"STATUS_NAME: message".</summary>
        public override string ToString()
        {
            return StatusName + ": " + Message;
        }
    }

    /// <summary>A value for each phase; a scalar in a config sets both.</summary>
    public struct PhaseValues
    {
        /// <summary>The prefill (context) value.</summary>
        public double Prefill { get; private set; }
        /// <summary>The decode (generation) value.</summary>
        public double Decode { get; private set; }

        internal PhaseValues(spattn_phase_values raw) : this() { Prefill = raw.prefill; Decode = raw.decode; }
    }

    /// <summary>skip_softmax settings of a user config, with the Model Optimizer extras; null
    /// where a setting is not given.</summary>
    public sealed class SkipSoftmaxConfig
    {
        public PhaseValues? ThresholdScaleFactor { get; private set; }
        public PhaseValues? TargetSparsity { get; private set; }
        public double? DisabledUntilTimestep { get; private set; }
        public int SparsityN { get; private set; }
        public int SparsityM { get; private set; }
        public int NumSinkTokens { get; private set; }
        public int DenseWindowSize { get; private set; }
        public bool QuantizeP { get; private set; }

        internal SkipSoftmaxConfig(spattn_skip_softmax_config s)
        {
            ThresholdScaleFactor = s.has_threshold_scale_factor != 0 ? new PhaseValues(s.threshold_scale_factor) : (PhaseValues?)null;
            TargetSparsity = s.has_target_sparsity != 0 ? new PhaseValues(s.target_sparsity) : (PhaseValues?)null;
            DisabledUntilTimestep = s.has_disabled_until_timestep != 0 ? s.disabled_until_timestep : (double?)null;
            SparsityN = s.sparsity_n; SparsityM = s.sparsity_m; NumSinkTokens = s.num_sink_tokens;
            DenseWindowSize = s.dense_window_size; QuantizeP = s.quantize_p != 0;
        }
    }

    /// <summary>rocket (RocketKV) settings; TensorRT-LLM's defaults where not given.</summary>
    public sealed class RocketConfig
    {
        public int WindowSize { get; private set; }
        public int KernelSize { get; private set; }
        public double Topr { get; private set; }
        public int Topk { get; private set; }
        public int PromptBudget { get; private set; }
        public int PageSize { get; private set; }
        public KtCacheDtype KtCacheDtype { get; private set; }
        public int? SeqLenThreshold { get; private set; }
        // What the RocketKV calls take (RocketContextArgs.Config, RocketDecodeArgs.Config).
        internal readonly spattn_rocket_config Raw;

        internal RocketConfig(spattn_rocket_config r)
        {
            Raw = r;
            WindowSize = r.window_size; KernelSize = r.kernel_size; Topr = r.topr; Topk = r.topk;
            PromptBudget = r.prompt_budget; PageSize = r.page_size; KtCacheDtype = r.kt_cache_dtype;
            SeqLenThreshold = r.has_seq_len_threshold != 0 ? r.seq_len_threshold : (int?)null;
        }
    }

    /// <summary>dsa (DeepSeek Sparse Attention) settings; null where not given.</summary>
    public sealed class DsaConfig
    {
        public int? IndexNHeads { get; private set; }
        public int? IndexHeadDim { get; private set; }
        public int? IndexTopk { get; private set; }
        public int? IndexerMaxChunkSize { get; private set; }
        public bool SkipIndexerForShortSeqs { get; private set; }
        public bool EnableHeuristicTopk { get; private set; }
        public int? SeqLenThreshold { get; private set; }
        // TensorRT-LLM's kernel-selection switches, kept so its option files are understood.
        public bool UseCuteDslTopk { get; private set; }
        public bool UseCuteDslPagedMqaLogits { get; private set; }
        /// <summary>Negative: never split.</summary>
        public int QSplitThreshold { get; private set; }
        public bool IndexerRopeInterleave { get; private set; }
        public bool UseSelfSamplingTopk { get; private set; }
        public bool UseGvrEmission { get; private set; }
        public IndexerKDtype IndexerKDtype { get; private set; }
        /// <summary>null: the model's own value.</summary>
        public bool? IndexShareForMtpIteration { get; private set; }
        // What DsaLayerArgs.Config hands to the layer.
        internal readonly spattn_dsa_config Raw;

        static int? Set(int v) { return v > 0 ? v : (int?)null; } // 0 means unset in the C struct

        internal DsaConfig(spattn_dsa_config d)
        {
            Raw = d;
            IndexNHeads = Set(d.index_n_heads); IndexHeadDim = Set(d.index_head_dim); IndexTopk = Set(d.index_topk);
            IndexerMaxChunkSize = Set(d.indexer_max_chunk_size); SkipIndexerForShortSeqs = d.skip_indexer_for_short_seqs != 0;
            EnableHeuristicTopk = d.enable_heuristic_topk != 0; SeqLenThreshold = Set(d.seq_len_threshold);
            UseCuteDslTopk = d.use_cute_dsl_topk != 0; UseCuteDslPagedMqaLogits = d.use_cute_dsl_paged_mqa_logits != 0;
            QSplitThreshold = d.q_split_threshold; IndexerRopeInterleave = d.indexer_rope_interleave != 0;
            UseSelfSamplingTopk = d.use_self_sampling_topk != 0; UseGvrEmission = d.use_gvr_emission != 0;
            IndexerKDtype = d.indexer_k_dtype;
            IndexShareForMtpIteration = d.index_share_for_mtp_iteration < 0 ? (bool?)null : d.index_share_for_mtp_iteration != 0;
        }
    }

    /// <summary>vsa (Video Sparse Attention) settings; defaults where not given.</summary>
    public sealed class VsaConfig
    {
        /// <summary>Fraction of KV cubes each query cube drops, in [0, 1).</summary>
        public double VsaSparsity { get; private set; }
        /// <summary>Cube frames, height, width in latent tokens.</summary>
        public int[] CubeShape { get; private set; }
        public double? DisabledUntilTimestep { get; private set; }

        internal unsafe VsaConfig(spattn_vsa_config v)
        {
            VsaSparsity = v.vsa_sparsity;
            CubeShape = new[] { v.cube_shape[0], v.cube_shape[1], v.cube_shape[2] };
            DisabledUntilTimestep = v.has_disabled_until_timestep != 0 ? v.disabled_until_timestep : (double?)null;
        }
    }

    /// <summary>A parsed user sparse-attention config (spattn_config). Immutable and
    /// thread-safe; Dispose() (idempotent) or the finalizer releases it. Calls on a disposed
    /// config throw ObjectDisposedException.</summary>
    public sealed class Config : SafeHandle
    {
        static int released;

        Config() : base(IntPtr.Zero, true) { }

        /// <summary>True for a handle that holds no config.</summary>
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            Native.spattn_config_destroy(handle);
            System.Threading.Interlocked.Increment(ref released);
            return true;
        }

        /// <summary>Parses YAML or JSON text.</summary>
        public static Config Parse(string text, Format format = Format.Auto)
        {
            if (text == null) throw new ArgumentNullException("text");
            Library.EnsureLoaded();
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            Config config;
            Native.Check(Native.spattn_config_parse(bytes, (UIntPtr)bytes.Length, format, out config));
            return config;
        }

        /// <summary>Parses a config file; with Format.Auto its extension decides.</summary>
        public static Config FromFile(string path, Format format = Format.Auto)
        {
            if (path == null) throw new ArgumentNullException("path");
            Library.EnsureLoaded();
            Config config;
            Native.Check(Native.spattn_config_parse_file(Native.Utf8(path), format, out config));
            return config;
        }

        /// <summary>The configured algorithm (Algorithm.None when none).</summary>
        public Algorithm Algorithm { get { return Native.spattn_config_algorithm(this); } }

        /// <summary>The VisualGen attention_config.backend, or null.</summary>
        public string Backend { get { return Native.FromUtf8(Native.spattn_config_backend(this)); } }

        /// <summary>Canonical JSON of what was understood.</summary>
        public string ToJson()
        {
            IntPtr json;
            Native.Check(Native.spattn_config_to_json(this, out json));
            return Native.TakeString(json);
        }

        /// <summary>The skip_softmax settings; SpattnException (WrongAlgorithm) otherwise.</summary>
        public SkipSoftmaxConfig SkipSoftmax()
        {
            var s = new spattn_skip_softmax_config { struct_size = (uint)Marshal.SizeOf(typeof(spattn_skip_softmax_config)) };
            Native.Check(Native.spattn_config_skip_softmax(this, ref s));
            return new SkipSoftmaxConfig(s);
        }

        /// <summary>The rocket settings; SpattnException (WrongAlgorithm) otherwise.</summary>
        public RocketConfig Rocket()
        {
            var r = new spattn_rocket_config { struct_size = (uint)Marshal.SizeOf(typeof(spattn_rocket_config)) };
            Native.Check(Native.spattn_config_rocket(this, ref r));
            return new RocketConfig(r);
        }

        /// <summary>The dsa settings; SpattnException (WrongAlgorithm) otherwise.</summary>
        public DsaConfig Dsa()
        {
            var d = new spattn_dsa_config { struct_size = (uint)Marshal.SizeOf(typeof(spattn_dsa_config)) };
            Native.Check(Native.spattn_config_dsa(this, ref d));
            return new DsaConfig(d);
        }

        /// <summary>The vsa settings; SpattnException (WrongAlgorithm) otherwise.</summary>
        public VsaConfig Vsa()
        {
            var v = new spattn_vsa_config { struct_size = (uint)Marshal.SizeOf(typeof(spattn_vsa_config)) };
            Native.Check(Native.spattn_config_vsa(this, ref v));
            return new VsaConfig(v);
        }

        /// <summary>"Config(skip_softmax)", or "Config(disposed)".</summary>
        public override string ToString()
        {
            return IsClosed ? "Config(disposed)" : "Config(" + Algorithm + ")";
        }
    }

    /// <summary>The resolved parameters of one attention layer (spattn_layer_params): a plain
    /// value that outlives the model.</summary>
    public struct LayerParams
    {
        internal spattn_layer_params Raw;

        internal LayerParams(spattn_layer_params raw) { Raw = raw; }

        static double? NotNaN(double x) { return double.IsNaN(x) ? (double?)null : x; }

        public Algorithm Algorithm { get { return Raw.algorithm; } }
        /// <summary>Skip-softmax is on: launches use ThresholdScaleFactor.</summary>
        public bool Enabled { get { return Raw.enabled != 0; } }
        public DisabledReason DisabledReason { get { return Raw.disabled_reason; } }
        /// <summary>Dense or sparse: part of a CUDA-graph cache key.</summary>
        public PhaseKey PhaseKey { get { return Raw.phase_key; } }
        public double ThresholdScaleFactor { get { return Raw.threshold_scale_factor; } }
        public Source ThresholdSource { get { return Raw.threshold_source; } }
        /// <summary>The target mapped through the formula, or null.</summary>
        public double? TargetSparsity { get { return NotNaN(Raw.target_sparsity); } }
        public Source TargetSource { get { return Raw.target_source; } }
        /// <summary>The timestep cutoff in force, or null.</summary>
        public double? DisabledUntilTimestep { get { return NotNaN(Raw.disabled_until_timestep); } }
        public Source TimestepSource { get { return Raw.timestep_source; } }
        public int SparsityN { get { return Raw.sparsity_n; } }
        public int SparsityM { get { return Raw.sparsity_m; } }
        public int NumSinkTokens { get { return Raw.num_sink_tokens; } }
        public int DenseWindowSize { get { return Raw.dense_window_size; } }
        public bool QuantizeP { get { return Raw.quantize_p != 0; } }
        /// <summary>VSA only (0 otherwise): the fraction of KV cubes dropped.</summary>
        public double VsaSparsity { get { return Raw.vsa_sparsity; } }
        /// <summary>VSA only (0s otherwise): cube frames, height, width in tokens.</summary>
        public unsafe int[] VsaCubeShape
        {
            get { var r = Raw; return new[] { r.vsa_cube_shape[0], r.vsa_cube_shape[1], r.vsa_cube_shape[2] }; }
        }
    }

    /// <summary>A checkpoint's calibration merged with a user config, resolved per layer
    /// (spattn_model). Immutable and thread-safe; released by Dispose() or the finalizer.</summary>
    public sealed class Model : SafeHandle
    {
        static int released;

        Model() : base(IntPtr.Zero, true) { }

        /// <summary>True for a handle that holds no model.</summary>
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            Native.spattn_model_destroy(handle);
            System.Threading.Interlocked.Increment(ref released);
            return true;
        }

        /// <summary>Opens a checkpoint folder; `config` may be null (checkpoint defaults). The
        /// model copies what it needs: the config may be disposed afterwards.</summary>
        public static Model Open(string checkpointDir, Config config = null)
        {
            if (checkpointDir == null) throw new ArgumentNullException("checkpointDir");
            Library.EnsureLoaded();
            Model model;
            byte[] path = Native.Utf8(checkpointDir);
            if (config == null)
                Native.Check(Native.spattn_model_open(path, IntPtr.Zero, out model));
            else
                Native.Check(Native.spattn_model_open(path, config, out model));
            return model;
        }

        /// <summary>Component names ("" for a plain checkpoint).</summary>
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

        /// <summary>The checkpoint's ignore patterns of component `componentIndex` (empty when
        /// out of range).</summary>
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
        public LayerParams Lookup(string component, string layer, Phase phase = Phase.Prefill, double? timestep = null)
        {
            if (layer == null) throw new ArgumentNullException("layer");
            var p = new spattn_layer_params { struct_size = (uint)Marshal.SizeOf(typeof(spattn_layer_params)) };
            Native.Check(Native.spattn_model_lookup(this, Native.Utf8(component), Native.Utf8(layer), phase,
                                                    timestep ?? Native.SPATTN_NO_TIMESTEP, ref p));
            return new LayerParams(p);
        }

        /// <summary>The CUDA-graph phase of a whole component at a timestep (spattn_model_phase_key):
        /// Sparse when its ordinary layers run sparse, else Dense; arguments as Lookup.</summary>
        public PhaseKey ComponentPhaseKey(string component, Phase phase = Phase.Prefill, double? timestep = null)
        {
            PhaseKey key;
            Native.Check(Native.spattn_model_phase_key(this, Native.Utf8(component), phase,
                                                       timestep ?? Native.SPATTN_NO_TIMESTEP, out key));
            return key;
        }

        /// <summary>The resolved table as JSON.</summary>
        public string ToJson()
        {
            IntPtr json;
            Native.Check(Native.spattn_model_to_json(this, out json));
            return Native.TakeString(json);
        }

        /// <summary>"Model(transformer, transformer_2)", or "Model(disposed)".</summary>
        public override string ToString()
        {
            return IsClosed ? "Model(disposed)" : "Model(" + string.Join(", ", Components) + ")";
        }
    }

    /// <summary>The arguments of one attention forward pass (spattn_attention_args): shapes,
    /// pointers (device memory for Forward, pinned host memory for Reference), strides in
    /// elements (batch, token, head). Defaults: dense, no optional outputs.</summary>
    public sealed class AttentionArgs
    {
        public Dtype Dtype = Dtype.Bfloat16;
        public int Batch, NumHeads, NumKvHeads, HeadDim, SeqlenQ, SeqlenKv;
        public IntPtr Q, K, V, Out;
        public long[] QStrides = new long[3], KStrides = new long[3], VStrides = new long[3], OutStrides = new long[3];
        /// <summary>Packed batches: batch + 1 int32 offsets each (IntPtr.Zero: fixed lengths).</summary>
        public IntPtr CuSeqlensQ, CuSeqlensKv;
        /// <summary>0: 1/sqrt(HeadDim).</summary>
        public float SoftmaxScale;
        public bool Causal;
        /// <summary>A lookup's parameters (its threshold and extras apply), or null.</summary>
        public LayerParams? Layer;
        /// <summary>The skip threshold when Layer is null; 0 is dense.</summary>
        public float ThresholdScaleFactor;
        /// <summary>Optional float32 log-sum-exp output and two uint64 tile counters.</summary>
        public IntPtr Lse, TileCounters;
        /// <summary>Packed batches: token totals (0: unknown).</summary>
        public int TotalQ, TotalKv;

        internal delegate Status RawCall(ref spattn_attention_args args);

        internal unsafe Status Call(RawCall call)
        {
            var a = new spattn_attention_args { struct_size = (uint)Marshal.SizeOf(typeof(spattn_attention_args)) };
            a.dtype = Dtype; a.batch = Batch; a.num_heads = NumHeads; a.num_kv_heads = NumKvHeads; a.head_dim = HeadDim;
            a.seqlen_q = SeqlenQ; a.seqlen_kv = SeqlenKv; a.q = Q; a.k = K; a.v = V; a.@out = Out;
            Fixed.Copy(QStrides, a.q_strides, 3, "QStrides"); Fixed.Copy(KStrides, a.k_strides, 3, "KStrides");
            Fixed.Copy(VStrides, a.v_strides, 3, "VStrides"); Fixed.Copy(OutStrides, a.out_strides, 3, "OutStrides");
            a.cu_seqlens_q = CuSeqlensQ; a.cu_seqlens_kv = CuSeqlensKv; a.softmax_scale = SoftmaxScale;
            a.causal = Causal ? 1 : 0; a.threshold_scale_factor = ThresholdScaleFactor; a.lse = Lse;
            a.tile_counters = TileCounters; a.total_q = TotalQ; a.total_kv = TotalKv;
            spattn_layer_params layer = Layer.HasValue ? Layer.Value.Raw : default(spattn_layer_params);
            if (Layer.HasValue) a.layer_params = (IntPtr)(&layer);
            return call(ref a);
        }
    }

    /// <summary>Attention forward passes.</summary>
    public static class Attention
    {
        /// <summary>spattn_attention_forward on device pointers, on `stream` (a cudaStream_t;
        /// IntPtr.Zero: the default stream). Asynchronous.</summary>
        public static void Forward(AttentionArgs args, IntPtr stream)
        {
            if (args == null) throw new ArgumentNullException("args");
            Library.EnsureLoaded();
            Native.Check(args.Call((ref spattn_attention_args a) => Native.spattn_attention_forward(ref a, stream)));
        }

        /// <summary>The CPU reference of the same pass on host pointers (pinned by the caller).</summary>
        public static void Reference(AttentionArgs args)
        {
            if (args == null) throw new ArgumentNullException("args");
            Library.EnsureLoaded();
            Native.Check(args.Call((ref spattn_attention_args a) => Native.spattn_attention_reference(ref a)));
        }
    }

    // ---- Kernels on caches, sparse attention, VSA, DSA, RocketKV: argument classes mirroring
    // the C structs field for field (PascalCase; strides in elements as long[3]; pointers to
    // device memory for launches and to pinned host memory for the references), and static
    // classes whose methods call the C functions and throw SpattnException on failure.

    /// <summary>Copies arrays into fixed-size struct fields.</summary>
    internal static class Fixed
    {
        internal static unsafe void Copy(long[] from, long* to, int count, string name)
        {
            if (from == null || from.Length != count) throw new ArgumentException(name + " must have " + count + " elements", name);
            for (int i = 0; i < count; i++) to[i] = from[i];
        }

        internal static unsafe void Copy(int[] from, int* to, int count, string name)
        {
            if (from == null || from.Length != count) throw new ArgumentException(name + " must have " + count + " elements", name);
            for (int i = 0; i < count; i++) to[i] = from[i];
        }

        internal static void NotNull(object args, string name)
        {
            if (args == null) throw new ArgumentNullException(name);
            Library.EnsureLoaded();
        }
    }

    /// <summary>Where an attention call reads its keys and values (spattn_kv_cache): contiguous
    /// [batch][token][head][dim], or page pools [page][slot][head][dim] with a block table of
    /// int32 page ids. KScale/VScale dequantize FP8 caches (0: 1).</summary>
    public sealed class KvCache
    {
        public KvLayout Layout = KvLayout.Contiguous;
        public Dtype Dtype = Dtype.Bfloat16;
        public int NumKvHeads, HeadDim;
        /// <summary>0: HeadDim.</summary>
        public int HeadDimV;
        public IntPtr K, V;
        public long[] KStrides = new long[3], VStrides = new long[3];
        public float KScale, VScale;
        /// <summary>int32 [batch]: keys of each sequence (IntPtr.Zero: all MaxSeqlenKv).</summary>
        public IntPtr SeqlensKv;
        public int MaxSeqlenKv;
        /// <summary>Paged only.</summary>
        public int PageSize, NumPages, MaxPagesPerSeq;
        /// <summary>Paged only: int32 [batch][MaxPagesPerSeq] page ids.</summary>
        public IntPtr BlockTable;

        internal unsafe spattn_kv_cache ToRaw()
        {
            var c = new spattn_kv_cache { struct_size = (uint)Marshal.SizeOf(typeof(spattn_kv_cache)) };
            c.layout = Layout; c.dtype = Dtype; c.num_kv_heads = NumKvHeads; c.head_dim = HeadDim; c.head_dim_v = HeadDimV;
            c.k = K; c.v = V;
            Fixed.Copy(KStrides, c.k_strides, 3, "KStrides"); Fixed.Copy(VStrides, c.v_strides, 3, "VStrides");
            c.k_scale = KScale; c.v_scale = VScale; c.seqlens_kv = SeqlensKv; c.max_seqlen_kv = MaxSeqlenKv;
            c.page_size = PageSize; c.num_pages = NumPages; c.block_table = BlockTable; c.max_pages_per_seq = MaxPagesPerSeq;
            return c;
        }
    }

    /// <summary>One decode step (spattn_decode_args): SeqlenQ (1 to 16) new queries per
    /// sequence against a KvCache; skip-softmax from Layer (a decode-phase lookup) or
    /// ThresholdScaleFactor.</summary>
    public sealed class DecodeArgs
    {
        public Dtype Dtype = Dtype.Bfloat16;
        public int Batch, NumHeads, SeqlenQ;
        public IntPtr Q, Out;
        public long[] QStrides = new long[3], OutStrides = new long[3];
        public KvCache KvCache;
        /// <summary>0: 1/sqrt(head_dim).</summary>
        public float SoftmaxScale;
        public bool Causal;
        public LayerParams? Layer;
        public float ThresholdScaleFactor;
        /// <summary>&gt; 0: the key count of lambda for every sequence (sequence-parallel shards).</summary>
        public int SkipSeqlenKv;
        /// <summary>Optional float32 [batch][heads][SeqlenQ] LSE and two uint64 tile counters.</summary>
        public IntPtr Lse, TileCounters;
        /// <summary>Device scratch of Decode.WorkspaceSize bytes (launches only).</summary>
        public IntPtr Workspace;
        public ulong WorkspaceSize;
        /// <summary>0: Decode.NumSplits's rule.</summary>
        public int NumSplits;

        internal delegate Status RawCall(ref spattn_decode_args args);

        internal unsafe Status Call(RawCall call)
        {
            var a = new spattn_decode_args { struct_size = (uint)Marshal.SizeOf(typeof(spattn_decode_args)) };
            a.dtype = Dtype; a.batch = Batch; a.num_heads = NumHeads; a.seqlen_q = SeqlenQ; a.q = Q; a.@out = Out;
            Fixed.Copy(QStrides, a.q_strides, 3, "QStrides"); Fixed.Copy(OutStrides, a.out_strides, 3, "OutStrides");
            spattn_kv_cache kv = KvCache != null ? KvCache.ToRaw() : default(spattn_kv_cache);
            if (KvCache != null) a.kv_cache = (IntPtr)(&kv);
            spattn_layer_params layer = Layer.HasValue ? Layer.Value.Raw : default(spattn_layer_params);
            if (Layer.HasValue) a.layer_params = (IntPtr)(&layer);
            a.softmax_scale = SoftmaxScale; a.causal = Causal ? 1 : 0; a.threshold_scale_factor = ThresholdScaleFactor;
            a.skip_seqlen_kv = SkipSeqlenKv; a.lse = Lse; a.tile_counters = TileCounters;
            a.workspace = Workspace; a.workspace_size = (UIntPtr)WorkspaceSize; a.num_splits = NumSplits;
            return call(ref a);
        }
    }

    /// <summary>Decode steps (spattn_attention_decode and its queries).</summary>
    public static class Decode
    {
        /// <summary>The number of splits a call with these args uses.</summary>
        public static int NumSplits(DecodeArgs args)
        {
            Fixed.NotNull(args, "args");
            int splits = 0;
            Native.Check(args.Call((ref spattn_decode_args a) => Native.spattn_decode_num_splits(ref a, out splits)));
            return splits;
        }

        /// <summary>Bytes of device workspace Forward needs (0 with one split).</summary>
        public static ulong WorkspaceSize(DecodeArgs args)
        {
            Fixed.NotNull(args, "args");
            UIntPtr bytes = UIntPtr.Zero;
            Native.Check(args.Call((ref spattn_decode_args a) => Native.spattn_decode_workspace_size(ref a, out bytes)));
            return (ulong)bytes;
        }

        /// <summary>Launches the step on `stream` (a cudaStream_t; IntPtr.Zero: default stream).</summary>
        public static void Forward(DecodeArgs args, IntPtr stream)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_decode_args a) => Native.spattn_attention_decode(ref a, stream)));
        }

        /// <summary>The CPU reference of the step on host memory.</summary>
        public static void Reference(DecodeArgs args)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_decode_args a) => Native.spattn_attention_decode_reference(ref a)));
        }
    }

    /// <summary>Partial attention results to combine by their log-sum-exp (spattn_merge_args):
    /// Parts[p] points to [batch][seqlen][heads][head_dim] by PartStrides, PartLse[p] to the
    /// float32 LSE [batch][heads][seqlen].</summary>
    public sealed class MergeArgs
    {
        public IntPtr[] Parts, PartLse;
        public int Batch, Seqlen, NumHeads, HeadDim;
        public Dtype PartsDtype = Dtype.Float32, OutDtype = Dtype.Float32;
        public long[] PartStrides = new long[3], OutStrides = new long[3];
        public IntPtr Out;
        /// <summary>Optional merged LSE.</summary>
        public IntPtr Lse;

        internal delegate Status RawCall(ref spattn_merge_args args);

        internal unsafe Status Call(RawCall call)
        {
            if (Parts == null || PartLse == null || Parts.Length != PartLse.Length)
                throw new ArgumentException("Parts and PartLse must be arrays of the same length", "Parts");
            var a = new spattn_merge_args { struct_size = (uint)Marshal.SizeOf(typeof(spattn_merge_args)) };
            a.num_parts = Parts.Length; a.batch = Batch; a.seqlen = Seqlen; a.num_heads = NumHeads; a.head_dim = HeadDim;
            a.parts_dtype = PartsDtype; a.out_dtype = OutDtype; a.@out = Out; a.lse = Lse;
            Fixed.Copy(PartStrides, a.part_strides, 3, "PartStrides"); Fixed.Copy(OutStrides, a.out_strides, 3, "OutStrides");
            fixed (IntPtr* parts = Parts, lse = PartLse)
            {
                a.parts = Parts.Length > 0 ? (IntPtr)parts : IntPtr.Zero;
                a.part_lse = Parts.Length > 0 ? (IntPtr)lse : IntPtr.Zero;
                return call(ref a);
            }
        }
    }

    /// <summary>Merging partial attention (spattn_attention_merge).</summary>
    public static class Merge
    {
        /// <summary>Launches the merge on `stream` (device pointers; the two pointer arrays on the host).</summary>
        public static void Forward(MergeArgs args, IntPtr stream)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_merge_args a) => Native.spattn_attention_merge(ref a, stream)));
        }

        /// <summary>The CPU version on host memory.</summary>
        public static void Reference(MergeArgs args)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_merge_args a) => Native.spattn_attention_merge_reference(ref a)));
        }
    }

    /// <summary>Video Sparse Attention (spattn_vsa_args): q, k, v, gate and out in cube order
    /// [batch][padded_tokens][heads][head_dim]. Cube shape and sparsity from Layer (a VSA
    /// lookup) when set, else CubeShape and Sparsity.</summary>
    public sealed class VsaArgs
    {
        public Dtype Dtype = Dtype.Bfloat16;
        public int Batch, NumHeads, NumKvHeads, HeadDim;
        /// <summary>Latent frames, height, width in tokens.</summary>
        public int[] Grid = new int[3];
        public int[] CubeShape = { 4, 4, 4 };
        public double Sparsity = 0.9;
        public LayerParams? Layer;
        /// <summary>Gate: IntPtr.Zero for a gate of 1.</summary>
        public IntPtr Q, K, V, Gate, Out;
        public long[] QStrides = new long[3], KStrides = new long[3], VStrides = new long[3], GateStrides = new long[3],
                      OutStrides = new long[3];
        public float SoftmaxScale;
        /// <summary>Optional: float32 [batch][heads][padded_tokens] fine-stage LSE, int32
        /// [batch][heads][num_cubes][kept_cubes] selection.</summary>
        public IntPtr Lse, SelectedCubes;
        public IntPtr Workspace;
        public ulong WorkspaceSize;

        internal delegate Status RawCall(ref spattn_vsa_args args);

        internal unsafe Status Call(RawCall call)
        {
            var a = new spattn_vsa_args { struct_size = (uint)Marshal.SizeOf(typeof(spattn_vsa_args)) };
            a.dtype = Dtype; a.batch = Batch; a.num_heads = NumHeads; a.num_kv_heads = NumKvHeads; a.head_dim = HeadDim;
            Fixed.Copy(Grid, a.grid, 3, "Grid"); Fixed.Copy(CubeShape, a.cube_shape, 3, "CubeShape");
            a.sparsity = Sparsity;
            spattn_layer_params layer = Layer.HasValue ? Layer.Value.Raw : default(spattn_layer_params);
            if (Layer.HasValue) a.layer_params = (IntPtr)(&layer);
            a.q = Q; a.k = K; a.v = V; a.gate = Gate; a.@out = Out;
            Fixed.Copy(QStrides, a.q_strides, 3, "QStrides"); Fixed.Copy(KStrides, a.k_strides, 3, "KStrides");
            Fixed.Copy(VStrides, a.v_strides, 3, "VStrides"); Fixed.Copy(GateStrides, a.gate_strides, 3, "GateStrides");
            Fixed.Copy(OutStrides, a.out_strides, 3, "OutStrides");
            a.softmax_scale = SoftmaxScale; a.lse = Lse; a.selected_cubes = SelectedCubes;
            a.workspace = Workspace; a.workspace_size = (UIntPtr)WorkspaceSize;
            return call(ref a);
        }
    }

    /// <summary>The geometry of a VSA problem (spattn_vsa_geometry).</summary>
    public sealed class VsaGeometry
    {
        /// <summary>Cubes along frames, height, width.</summary>
        public int[] Cubes { get; private set; }
        public int NumCubes { get; private set; }
        public int CubeVolume { get; private set; }
        /// <summary>KV cubes each query cube attends to in the fine stage.</summary>
        public int KeptCubes { get; private set; }
        /// <summary>NumCubes * CubeVolume: the token extent of cube order.</summary>
        public long PaddedTokens { get; private set; }

        internal unsafe VsaGeometry(spattn_vsa_geometry g)
        {
            Cubes = new[] { g.cubes[0], g.cubes[1], g.cubes[2] };
            NumCubes = g.num_cubes; CubeVolume = g.cube_volume; KeptCubes = g.kept_cubes; PaddedTokens = g.padded_tokens;
        }
    }

    /// <summary>A relayout of a [batch][tokens][heads][head_dim] tensor between raster and cube
    /// order (spattn_vsa_layout_args).</summary>
    public sealed class VsaLayoutArgs
    {
        public Dtype Dtype = Dtype.Bfloat16;
        public VsaDirection Direction;
        public int Batch, NumHeads, HeadDim;
        public int[] Grid = new int[3];
        public int[] CubeShape = { 4, 4, 4 };
        public IntPtr Src, Dst;
        public long[] SrcStrides = new long[3], DstStrides = new long[3];

        internal delegate Status RawCall(ref spattn_vsa_layout_args args);

        internal unsafe Status Call(RawCall call)
        {
            var a = new spattn_vsa_layout_args { struct_size = (uint)Marshal.SizeOf(typeof(spattn_vsa_layout_args)) };
            a.dtype = Dtype; a.direction = Direction; a.batch = Batch; a.num_heads = NumHeads; a.head_dim = HeadDim;
            Fixed.Copy(Grid, a.grid, 3, "Grid"); Fixed.Copy(CubeShape, a.cube_shape, 3, "CubeShape");
            a.src = Src; a.dst = Dst;
            Fixed.Copy(SrcStrides, a.src_strides, 3, "SrcStrides"); Fixed.Copy(DstStrides, a.dst_strides, 3, "DstStrides");
            return call(ref a);
        }
    }

    /// <summary>Video Sparse Attention (spattn_vsa_*).</summary>
    public static class Vsa
    {
        /// <summary>The geometry implied by args' grid, cube shape and sparsity (no tensor is read).</summary>
        public static VsaGeometry Geometry(VsaArgs args)
        {
            Fixed.NotNull(args, "args");
            var g = new spattn_vsa_geometry { struct_size = (uint)Marshal.SizeOf(typeof(spattn_vsa_geometry)) };
            Native.Check(args.Call((ref spattn_vsa_args a) => Native.spattn_vsa_get_geometry(ref a, ref g)));
            return new VsaGeometry(g);
        }

        /// <summary>Bytes of device workspace Forward needs.</summary>
        public static ulong WorkspaceSize(VsaArgs args)
        {
            Fixed.NotNull(args, "args");
            UIntPtr bytes = UIntPtr.Zero;
            Native.Check(args.Call((ref spattn_vsa_args a) => Native.spattn_vsa_workspace_size(ref a, out bytes)));
            return (ulong)bytes;
        }

        /// <summary>Launches VSA on `stream`.</summary>
        public static void Forward(VsaArgs args, IntPtr stream)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_vsa_args a) => Native.spattn_vsa_forward(ref a, stream)));
        }

        /// <summary>The CPU reference on host memory (any cube shape).</summary>
        public static void Reference(VsaArgs args)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_vsa_args a) => Native.spattn_vsa_reference(ref a)));
        }

        /// <summary>Launches a relayout on `stream`.</summary>
        public static void Relayout(VsaLayoutArgs args, IntPtr stream)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_vsa_layout_args a) => Native.spattn_vsa_relayout(ref a, stream)));
        }

        /// <summary>The relayout on host memory.</summary>
        public static void RelayoutReference(VsaLayoutArgs args)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_vsa_layout_args a) => Native.spattn_vsa_relayout_reference(ref a)));
        }
    }

    /// <summary>Index-sparse attention (spattn_sparse_attention_args): each query row attends to
    /// the key positions its int32 list names (-1: empty), lists at Indices by IndexStrides
    /// (batch, query token, KV head; 0 shares a list).</summary>
    public sealed class SparseAttentionArgs
    {
        public Dtype Dtype = Dtype.Bfloat16;
        public int Batch, NumHeads, SeqlenQ;
        /// <summary>int32 [batch + 1] packed query offsets, or IntPtr.Zero: fixed lengths.</summary>
        public IntPtr CuSeqlensQ;
        public IntPtr Q, Out;
        public long[] QStrides = new long[3], OutStrides = new long[3];
        public KvCache KvCache;
        public IntPtr Indices;
        public long[] IndexStrides = new long[3];
        public int Topk;
        public bool Causal;
        public float SoftmaxScale;
        public IntPtr Lse;
        public IntPtr Workspace;
        public ulong WorkspaceSize;
        public int NumSplits;

        internal delegate Status RawCall(ref spattn_sparse_attention_args args);

        internal unsafe spattn_sparse_attention_args ToRaw(spattn_kv_cache* kv)
        {
            var a = new spattn_sparse_attention_args { struct_size = (uint)Marshal.SizeOf(typeof(spattn_sparse_attention_args)) };
            a.dtype = Dtype; a.batch = Batch; a.num_heads = NumHeads; a.seqlen_q = SeqlenQ; a.cu_seqlens_q = CuSeqlensQ;
            a.q = Q; a.@out = Out;
            Fixed.Copy(QStrides, a.q_strides, 3, "QStrides"); Fixed.Copy(OutStrides, a.out_strides, 3, "OutStrides");
            a.kv_cache = KvCache != null ? (IntPtr)kv : IntPtr.Zero;
            a.indices = Indices; Fixed.Copy(IndexStrides, a.index_strides, 3, "IndexStrides");
            a.topk = Topk; a.causal = Causal ? 1 : 0; a.softmax_scale = SoftmaxScale; a.lse = Lse;
            a.workspace = Workspace; a.workspace_size = (UIntPtr)WorkspaceSize; a.num_splits = NumSplits;
            return a;
        }

        internal unsafe Status Call(RawCall call)
        {
            spattn_kv_cache kv = KvCache != null ? KvCache.ToRaw() : default(spattn_kv_cache);
            var a = ToRaw(&kv);
            return call(ref a);
        }
    }

    /// <summary>Index-sparse attention (spattn_sparse_attention*).</summary>
    public static class SparseAttention
    {
        /// <summary>The number of splits a call with these args uses.</summary>
        public static int NumSplits(SparseAttentionArgs args)
        {
            Fixed.NotNull(args, "args");
            int splits = 0;
            Native.Check(args.Call((ref spattn_sparse_attention_args a) => Native.spattn_sparse_attention_num_splits(ref a, out splits)));
            return splits;
        }

        /// <summary>Bytes of device workspace Forward needs (0 with one split).</summary>
        public static ulong WorkspaceSize(SparseAttentionArgs args)
        {
            Fixed.NotNull(args, "args");
            UIntPtr bytes = UIntPtr.Zero;
            Native.Check(args.Call((ref spattn_sparse_attention_args a) => Native.spattn_sparse_attention_workspace_size(ref a, out bytes)));
            return (ulong)bytes;
        }

        /// <summary>Launches the attention on `stream`.</summary>
        public static void Forward(SparseAttentionArgs args, IntPtr stream)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_sparse_attention_args a) => Native.spattn_sparse_attention(ref a, stream)));
        }

        /// <summary>The CPU reference on host memory (refuses out-of-range and duplicate entries).</summary>
        public static void Reference(SparseAttentionArgs args)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_sparse_attention_args a) => Native.spattn_sparse_attention_reference(ref a)));
        }
    }

    /// <summary>Top-k per row of a float score matrix (spattn_topk_args).</summary>
    public sealed class TopkArgs
    {
        public int NumRows, NumCols;
        /// <summary>float [NumRows][>= NumCols] by ScoreRowStride.</summary>
        public IntPtr Scores;
        public long ScoreRowStride;
        /// <summary>Optional int32 [NumRows] row lengths.</summary>
        public IntPtr Lengths;
        public int K;
        /// <summary>int32 [NumRows][>= K] by IndexRowStride.</summary>
        public IntPtr Indices;
        public long IndexRowStride;

        internal delegate Status RawCall(ref spattn_topk_args args);

        internal Status Call(RawCall call)
        {
            var a = new spattn_topk_args { struct_size = (uint)Marshal.SizeOf(typeof(spattn_topk_args)) };
            a.num_rows = NumRows; a.num_cols = NumCols; a.scores = Scores; a.score_row_stride = ScoreRowStride;
            a.lengths = Lengths; a.k = K; a.indices = Indices; a.index_row_stride = IndexRowStride;
            return call(ref a);
        }
    }

    /// <summary>Top-k selection (spattn_topk*).</summary>
    public static class Topk
    {
        /// <summary>Launches the selection on `stream`.</summary>
        public static void Forward(TopkArgs args, IntPtr stream)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_topk_args a) => Native.spattn_topk(ref a, stream)));
        }

        /// <summary>The CPU version on host memory.</summary>
        public static void Reference(TopkArgs args)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_topk_args a) => Native.spattn_topk_reference(ref a)));
        }
    }

    /// <summary>The DSA lightning indexer (spattn_dsa_indexer_args); KCache is the indexer's key
    /// cache (one KV head of index_head_dim).</summary>
    public sealed class DsaIndexerArgs
    {
        public Dtype QDtype = Dtype.Float8E4m3;
        public int Batch, SeqlenQ, NumHeads;
        public IntPtr CuSeqlensQ, Q;
        public long[] QStrides = new long[3];
        /// <summary>float32 [batch][seqlen_q][heads] by WeightStrides (batch, token).</summary>
        public IntPtr Weights;
        public long[] WeightStrides = new long[2];
        public KvCache KCache;
        public IntPtr KTokenScales;
        public long[] KTokenScaleStrides = new long[2];
        /// <summary>float32 [rows][>= max_seqlen_kv] by LogitsRowStride.</summary>
        public IntPtr Logits;
        public long LogitsRowStride;

        internal delegate Status RawCall(ref spattn_dsa_indexer_args args);

        internal unsafe spattn_dsa_indexer_args ToRaw(spattn_kv_cache* kc)
        {
            var a = new spattn_dsa_indexer_args { struct_size = (uint)Marshal.SizeOf(typeof(spattn_dsa_indexer_args)) };
            a.q_dtype = QDtype; a.batch = Batch; a.seqlen_q = SeqlenQ; a.cu_seqlens_q = CuSeqlensQ; a.num_heads = NumHeads;
            a.q = Q; Fixed.Copy(QStrides, a.q_strides, 3, "QStrides");
            a.weights = Weights; Fixed.Copy(WeightStrides, a.weight_strides, 2, "WeightStrides");
            a.k_cache = KCache != null ? (IntPtr)kc : IntPtr.Zero;
            a.k_token_scales = KTokenScales; Fixed.Copy(KTokenScaleStrides, a.k_token_scale_strides, 2, "KTokenScaleStrides");
            a.logits = Logits; a.logits_row_stride = LogitsRowStride;
            return a;
        }

        internal unsafe Status Call(RawCall call)
        {
            spattn_kv_cache kc = KCache != null ? KCache.ToRaw() : default(spattn_kv_cache);
            var a = ToRaw(&kc);
            return call(ref a);
        }
    }

    /// <summary>A DSA layer in one call (spattn_dsa_layer_args): the indexer's and the
    /// attention's args (their logits, indices, topk, causal and workspace are not read).</summary>
    public sealed class DsaLayerArgs
    {
        public DsaConfig Config;
        public DsaIndexerArgs Indexer;
        public SparseAttentionArgs Attention;
        /// <summary>0: Config.IndexTopk.</summary>
        public int IndexTopk;
        /// <summary>Optional int32 [rows][index_topk]: the selection is written there.</summary>
        public IntPtr Indices;
        public IntPtr Workspace;
        public ulong WorkspaceSize;

        internal delegate Status RawCall(ref spattn_dsa_layer_args args);

        internal unsafe Status Call(RawCall call)
        {
            if (Config == null) throw new ArgumentNullException("Config");
            if (Indexer == null) throw new ArgumentNullException("Indexer");
            if (Attention == null) throw new ArgumentNullException("Attention");
            spattn_dsa_config config = Config.Raw;
            spattn_kv_cache kc = Indexer.KCache != null ? Indexer.KCache.ToRaw() : default(spattn_kv_cache);
            spattn_kv_cache kv = Attention.KvCache != null ? Attention.KvCache.ToRaw() : default(spattn_kv_cache);
            spattn_dsa_indexer_args indexer = Indexer.ToRaw(&kc);
            spattn_sparse_attention_args attention = Attention.ToRaw(&kv);
            var a = new spattn_dsa_layer_args { struct_size = (uint)Marshal.SizeOf(typeof(spattn_dsa_layer_args)) };
            a.config = (IntPtr)(&config); a.indexer = (IntPtr)(&indexer); a.attention = (IntPtr)(&attention);
            a.index_topk = IndexTopk; a.indices = Indices; a.workspace = Workspace; a.workspace_size = (UIntPtr)WorkspaceSize;
            return call(ref a);
        }
    }

    /// <summary>DeepSeek Sparse Attention: the indexer and the whole layer (spattn_dsa_*).</summary>
    public static class Dsa
    {
        /// <summary>Launches the indexer on `stream`.</summary>
        public static void Indexer(DsaIndexerArgs args, IntPtr stream)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_dsa_indexer_args a) => Native.spattn_dsa_indexer(ref a, stream)));
        }

        /// <summary>The indexer's CPU reference on host memory.</summary>
        public static void IndexerReference(DsaIndexerArgs args)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_dsa_indexer_args a) => Native.spattn_dsa_indexer_reference(ref a)));
        }

        /// <summary>Bytes of device workspace Layer needs.</summary>
        public static ulong LayerWorkspaceSize(DsaLayerArgs args)
        {
            Fixed.NotNull(args, "args");
            UIntPtr bytes = UIntPtr.Zero;
            Native.Check(args.Call((ref spattn_dsa_layer_args a) => Native.spattn_dsa_layer_workspace_size(ref a, out bytes)));
            return (ulong)bytes;
        }

        /// <summary>Launches the layer on `stream`.</summary>
        public static void Layer(DsaLayerArgs args, IntPtr stream)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_dsa_layer_args a) => Native.spattn_dsa_layer(ref a, stream)));
        }

        /// <summary>The layer's CPU reference on host memory.</summary>
        public static void LayerReference(DsaLayerArgs args)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_dsa_layer_args a) => Native.spattn_dsa_layer_reference(ref a)));
        }
    }

    /// <summary>RocketKV's KT cache (spattn_kt_cache): per sequence, KV head and entry of
    /// page_size tokens, the keys' element-wise min then max (2 * head_dim values).</summary>
    public sealed class KtCache
    {
        public KvLayout Layout = KvLayout.Contiguous;
        public KtCacheDtype Dtype = KtCacheDtype.Float8E5m2;
        public int NumKvHeads, HeadDim;
        public IntPtr Data;
        /// <summary>Contiguous: batch, entry, head; paged: block, entry in block, head.</summary>
        public long[] Strides = new long[3];
        public int MaxEntries;
        /// <summary>Paged only.</summary>
        public int EntriesPerBlock, NumBlocks, MaxBlocksPerSeq;
        public IntPtr BlockTable;

        internal unsafe spattn_kt_cache ToRaw()
        {
            var c = new spattn_kt_cache { struct_size = (uint)Marshal.SizeOf(typeof(spattn_kt_cache)) };
            c.layout = Layout; c.dtype = Dtype; c.num_kv_heads = NumKvHeads; c.head_dim = HeadDim; c.data = Data;
            Fixed.Copy(Strides, c.strides, 3, "Strides");
            c.max_entries = MaxEntries; c.entries_per_block = EntriesPerBlock; c.num_blocks = NumBlocks;
            c.block_table = BlockTable; c.max_blocks_per_seq = MaxBlocksPerSeq;
            return c;
        }
    }

    /// <summary>RocketKV's context phase for a batch (spattn_rocket_context_args).</summary>
    public sealed class RocketContextArgs
    {
        public RocketConfig Config;
        public Dtype Dtype = Dtype.Bfloat16;
        public int Batch, NumHeads;
        /// <summary>The queries of each sequence's last window_size positions.</summary>
        public IntPtr QWindow;
        public long[] QStrides = new long[3];
        public KvCache KvCache;
        public KtCache KtCache;
        public float SoftmaxScale;
        /// <summary>Optional int32 [batch]: min(L, prompt_budget).</summary>
        public IntPtr SeqlensOut;
        /// <summary>int32 [batch][kv_heads][prompt_budget] kept positions.</summary>
        public IntPtr KeptIndices;
        public IntPtr Workspace;
        public ulong WorkspaceSize;

        internal delegate Status RawCall(ref spattn_rocket_context_args args);

        internal unsafe Status Call(RawCall call)
        {
            if (Config == null) throw new ArgumentNullException("Config");
            spattn_rocket_config config = Config.Raw;
            spattn_kv_cache kv = KvCache != null ? KvCache.ToRaw() : default(spattn_kv_cache);
            spattn_kt_cache kt = KtCache != null ? KtCache.ToRaw() : default(spattn_kt_cache);
            var a = new spattn_rocket_context_args { struct_size = (uint)Marshal.SizeOf(typeof(spattn_rocket_context_args)) };
            a.config = (IntPtr)(&config); a.dtype = Dtype; a.batch = Batch; a.num_heads = NumHeads;
            a.q_window = QWindow; Fixed.Copy(QStrides, a.q_strides, 3, "QStrides");
            if (KvCache != null) a.kv_cache = (IntPtr)(&kv);
            if (KtCache != null) a.kt_cache = (IntPtr)(&kt);
            a.softmax_scale = SoftmaxScale; a.seqlens_out = SeqlensOut; a.kept_indices = KeptIndices;
            a.workspace = Workspace; a.workspace_size = (UIntPtr)WorkspaceSize;
            return call(ref a);
        }
    }

    /// <summary>One RocketKV decode step (spattn_rocket_decode_args): one query per sequence.</summary>
    public sealed class RocketDecodeArgs
    {
        public RocketConfig Config;
        public Dtype Dtype = Dtype.Bfloat16;
        public int Batch, NumHeads;
        public IntPtr Q, Out;
        public long[] QStrides = new long[3], OutStrides = new long[3];
        public KvCache KvCache;
        public KtCache KtCache;
        public float SoftmaxScale;
        /// <summary>Optional float32 [batch][heads].</summary>
        public IntPtr Lse;
        /// <summary>int32 [batch][kv_heads][topk * page_size]: the attended tokens.</summary>
        public IntPtr SelectedIndices;
        public IntPtr Workspace;
        public ulong WorkspaceSize;

        internal delegate Status RawCall(ref spattn_rocket_decode_args args);

        internal unsafe Status Call(RawCall call)
        {
            if (Config == null) throw new ArgumentNullException("Config");
            spattn_rocket_config config = Config.Raw;
            spattn_kv_cache kv = KvCache != null ? KvCache.ToRaw() : default(spattn_kv_cache);
            spattn_kt_cache kt = KtCache != null ? KtCache.ToRaw() : default(spattn_kt_cache);
            var a = new spattn_rocket_decode_args { struct_size = (uint)Marshal.SizeOf(typeof(spattn_rocket_decode_args)) };
            a.config = (IntPtr)(&config); a.dtype = Dtype; a.batch = Batch; a.num_heads = NumHeads;
            a.q = Q; a.@out = Out;
            Fixed.Copy(QStrides, a.q_strides, 3, "QStrides"); Fixed.Copy(OutStrides, a.out_strides, 3, "OutStrides");
            if (KvCache != null) a.kv_cache = (IntPtr)(&kv);
            if (KtCache != null) a.kt_cache = (IntPtr)(&kt);
            a.softmax_scale = SoftmaxScale; a.lse = Lse; a.selected_indices = SelectedIndices;
            a.workspace = Workspace; a.workspace_size = (UIntPtr)WorkspaceSize;
            return call(ref a);
        }
    }

    /// <summary>RocketKV (spattn_rocket_*): the context phase and decode steps, whole or in pieces.</summary>
    public static class Rocket
    {
        /// <summary>Bytes of device workspace the context phase (and each piece) needs.</summary>
        public static ulong ContextWorkspaceSize(RocketContextArgs args)
        {
            Fixed.NotNull(args, "args");
            UIntPtr bytes = UIntPtr.Zero;
            Native.Check(args.Call((ref spattn_rocket_context_args a) => Native.spattn_rocket_context_workspace_size(ref a, out bytes)));
            return (ulong)bytes;
        }

        /// <summary>The whole context phase on `stream` (compacts the cache in place).</summary>
        public static void Context(RocketContextArgs args, IntPtr stream)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_rocket_context_args a) => Native.spattn_rocket_context(ref a, stream)));
        }

        /// <summary>The selection piece of the context phase.</summary>
        public static void ContextSelect(RocketContextArgs args, IntPtr stream)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_rocket_context_args a) => Native.spattn_rocket_context_select(ref a, stream)));
        }

        /// <summary>The compaction piece of the context phase.</summary>
        public static void ContextCompact(RocketContextArgs args, IntPtr stream)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_rocket_context_args a) => Native.spattn_rocket_context_compact(ref a, stream)));
        }

        /// <summary>The KT-cache piece of the context phase.</summary>
        public static void ContextBuildKt(RocketContextArgs args, IntPtr stream)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_rocket_context_args a) => Native.spattn_rocket_context_build_kt(ref a, stream)));
        }

        /// <summary>The context phase's CPU reference on host memory.</summary>
        public static void ContextReference(RocketContextArgs args)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_rocket_context_args a) => Native.spattn_rocket_context_reference(ref a)));
        }

        /// <summary>Bytes of device workspace a decode step (and each piece) needs.</summary>
        public static ulong DecodeWorkspaceSize(RocketDecodeArgs args)
        {
            Fixed.NotNull(args, "args");
            UIntPtr bytes = UIntPtr.Zero;
            Native.Check(args.Call((ref spattn_rocket_decode_args a) => Native.spattn_rocket_decode_workspace_size(ref a, out bytes)));
            return (ulong)bytes;
        }

        /// <summary>The whole decode step on `stream`.</summary>
        public static void Decode(RocketDecodeArgs args, IntPtr stream)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_rocket_decode_args a) => Native.spattn_rocket_decode(ref a, stream)));
        }

        /// <summary>The KT-cache update piece of a decode step.</summary>
        public static void DecodeUpdateKt(RocketDecodeArgs args, IntPtr stream)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_rocket_decode_args a) => Native.spattn_rocket_decode_update_kt(ref a, stream)));
        }

        /// <summary>The selection piece of a decode step.</summary>
        public static void DecodeSelect(RocketDecodeArgs args, IntPtr stream)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_rocket_decode_args a) => Native.spattn_rocket_decode_select(ref a, stream)));
        }

        /// <summary>The attention piece of a decode step.</summary>
        public static void DecodeAttend(RocketDecodeArgs args, IntPtr stream)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_rocket_decode_args a) => Native.spattn_rocket_decode_attend(ref a, stream)));
        }

        /// <summary>A decode step's CPU reference on host memory.</summary>
        public static void DecodeReference(RocketDecodeArgs args)
        {
            Fixed.NotNull(args, "args");
            Native.Check(args.Call((ref spattn_rocket_decode_args a) => Native.spattn_rocket_decode_reference(ref a)));
        }
    }
}
