//! `GatewayService`: sandboxes (SPEC §4), through `operations::sandboxes`, `execs` and
//! `files`. What the local
//! platform has no counterpart for (file-system snapshots, pause, object storage, raw
//! requests) answers UNIMPLEMENTED, saying so.

use tonic::{Request, Response, Status};

use super::convert::{from_proto, to_proto};
use super::proto::gateway_service_server::GatewayService;
use super::proto::*;
use super::{caller, status::to_status};
use crate::operations::Platform;
use crate::operations::sandboxes::{self, SandboxListQuery};
use crate::operations::{execs, files};

pub struct Gateway {
    platform: Platform,
}

impl Gateway {
    pub fn new(platform: Platform) -> Gateway {
        Gateway { platform }
    }
}

/// UNIMPLEMENTED for `what`, which the local platform does not have.
fn unsupported<T>(what: &str) -> Result<Response<T>, Status> {
    Err(Status::unimplemented(format!(
        "the local sandbox platform has no {what}; this RPC works against the hosted platform only"
    )))
}

#[tonic::async_trait]
impl GatewayService for Gateway {
    async fn start(
        &self,
        request: Request<StartSandboxRequest>,
    ) -> Result<Response<StartSandboxResponse>, Status> {
        let caller = caller(&self.platform, &request).await?;
        let start = from_proto(request.get_ref())?;
        let answer = sandboxes::start(&self.platform, &caller, start)
            .await
            .map_err(to_status)?;
        Ok(Response::new(to_proto(&answer)?))
    }

    async fn stop(
        &self,
        request: Request<StopSandboxRequest>,
    ) -> Result<Response<StopSandboxResponse>, Status> {
        let caller = caller(&self.platform, &request).await?;
        let stop: sandbox_api::sandbox::StopSandboxRequest = from_proto(request.get_ref())?;
        let id = stop.sandbox_id.clone();
        let answer = sandboxes::stop(&self.platform, &caller, &id, stop)
            .await
            .map_err(to_status)?;
        Ok(Response::new(to_proto(&answer)?))
    }

    async fn get(
        &self,
        request: Request<GetSandboxRequest>,
    ) -> Result<Response<GetSandboxResponse>, Status> {
        let caller = caller(&self.platform, &request).await?;
        let answer = sandboxes::get(&self.platform, &caller, &request.get_ref().sandbox_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(to_proto(&answer)?))
    }

    async fn list(
        &self,
        request: Request<ListSandboxesRequest>,
    ) -> Result<Response<ListSandboxesResponse>, Status> {
        let caller = caller(&self.platform, &request).await?;
        let message = request.get_ref();
        let status = SandboxStatus::try_from(message.status).unwrap_or(SandboxStatus::Unspecified);
        let query = SandboxListQuery {
            statuses: match status {
                SandboxStatus::Unspecified => Vec::new(),
                status => vec![status.as_str_name().to_owned()],
            },
            tags: message.tags.clone(),
            profile_names: message.profile_names.clone(),
            runner_ids: message.runner_ids.clone(),
            include_stopped: message.include_stopped,
        };
        let answer = sandboxes::list(&self.platform, &caller, query)
            .await
            .map_err(to_status)?;
        Ok(Response::new(to_proto(&answer)?))
    }

    async fn delete(
        &self,
        request: Request<DeleteSandboxRequest>,
    ) -> Result<Response<DeleteSandboxResponse>, Status> {
        let caller = caller(&self.platform, &request).await?;
        let answer = sandboxes::delete(&self.platform, &caller, &request.get_ref().sandbox_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(to_proto(&answer)?))
    }

    async fn exec(
        &self,
        request: Request<ExecSandboxRequest>,
    ) -> Result<Response<ExecSandboxResponse>, Status> {
        let caller = caller(&self.platform, &request).await?;
        let exec: sandbox_api::sandbox::ExecSandboxRequest = from_proto(request.get_ref())?;
        let id = exec.sandbox_id.clone();
        let answer = execs::exec(&self.platform, &caller, &id, exec)
            .await
            .map_err(to_status)?;
        Ok(Response::new(to_proto(&answer)?))
    }

    // The files' bytes are moved field by field rather than converted through JSON
    // (`convert.rs`), which would copy up to 32 MiB through base64 twice.
    async fn add_file(
        &self,
        request: Request<AddFileSandboxRequest>,
    ) -> Result<Response<AddFileSandboxResponse>, Status> {
        let caller = caller(&self.platform, &request).await?;
        let request = request.into_inner();
        let add = sandbox_api::sandbox::AddFileSandboxRequest {
            sandbox_id: request.sandbox_id,
            file_contents: request.file_contents,
            filepath: request.filepath,
            max_timeout_seconds: request.max_timeout_seconds,
        };
        let id = add.sandbox_id.clone();
        let answer = files::add_file(&self.platform, &caller, &id, add)
            .await
            .map_err(to_status)?;
        Ok(Response::new(AddFileSandboxResponse {
            success: answer.success,
            error_message: answer.error_message,
        }))
    }

    async fn retrieve_file(
        &self,
        request: Request<RetrieveFileSandboxRequest>,
    ) -> Result<Response<RetrieveFileSandboxResponse>, Status> {
        let caller = caller(&self.platform, &request).await?;
        let request = request.get_ref();
        let answer = files::retrieve_file(
            &self.platform,
            &caller,
            &request.sandbox_id,
            &request.filepath,
            request.max_timeout_seconds,
        )
        .await
        .map_err(to_status)?;
        Ok(Response::new(RetrieveFileSandboxResponse {
            file_contents: answer.file_contents,
            success: answer.success,
            error_message: answer.error_message,
        }))
    }

    async fn create_file_system_snapshot(
        &self,
        _: Request<CreateFileSystemSnapshotRequest>,
    ) -> Result<Response<CreateFileSystemSnapshotResponse>, Status> {
        unsupported("file-system snapshots")
    }

    async fn get_file_system_snapshot(
        &self,
        _: Request<GetFileSystemSnapshotRequest>,
    ) -> Result<Response<FileSystemSnapshot>, Status> {
        unsupported("file-system snapshots")
    }

    async fn list_file_system_snapshots(
        &self,
        _: Request<ListFileSystemSnapshotsRequest>,
    ) -> Result<Response<ListFileSystemSnapshotsResponse>, Status> {
        unsupported("file-system snapshots")
    }

    async fn delete_file_system_snapshot(
        &self,
        _: Request<DeleteFileSystemSnapshotRequest>,
    ) -> Result<Response<DeleteFileSystemSnapshotResponse>, Status> {
        unsupported("file-system snapshots")
    }

    async fn pause(
        &self,
        _: Request<PauseSandboxRequest>,
    ) -> Result<Response<PauseSandboxResponse>, Status> {
        unsupported("pause and resume")
    }

    async fn resume(
        &self,
        _: Request<ResumeSandboxRequest>,
    ) -> Result<Response<ResumeSandboxResponse>, Status> {
        unsupported("pause and resume")
    }

    async fn raw(
        &self,
        _: Request<RawSandboxRequest>,
    ) -> Result<Response<RawSandboxResponse>, Status> {
        unsupported("raw sandbox requests")
    }

    async fn get_object_storage_wif_config(
        &self,
        _: Request<GetObjectStorageWifConfigRequest>,
    ) -> Result<Response<ObjectStorageWifConfig>, Status> {
        unsupported("object storage")
    }

    async fn set_object_storage_wif_config(
        &self,
        _: Request<SetObjectStorageWifConfigRequest>,
    ) -> Result<Response<ObjectStorageWifConfig>, Status> {
        unsupported("object storage")
    }

    async fn delete_object_storage_wif_config(
        &self,
        _: Request<DeleteObjectStorageWifConfigRequest>,
    ) -> Result<Response<DeleteObjectStorageWifConfigResponse>, Status> {
        unsupported("object storage")
    }

    async fn get_file_system_snapshot_bucket_config(
        &self,
        _: Request<GetFileSystemSnapshotBucketConfigRequest>,
    ) -> Result<Response<FileSystemSnapshotBucketConfig>, Status> {
        unsupported("file-system snapshots")
    }

    async fn set_file_system_snapshot_bucket_config(
        &self,
        _: Request<SetFileSystemSnapshotBucketConfigRequest>,
    ) -> Result<Response<FileSystemSnapshotBucketConfig>, Status> {
        unsupported("file-system snapshots")
    }
}
